"""A peer district's token: where the district file says to find it, looked up when a
transfer is sent, and a `hotline config check` warning when the file gives it none."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from hotline.cli.config import config_check, config_schema
from hotline.router.transfers import NoPeerToken, missing_peer_tokens, peer_token
from hotline.shared.configuration.file import EXAMPLE, ConfigError, load_config, parse_config
from hotline.shared.domain.config import Peer

TEXT = EXAMPLE.read_text(encoding="utf-8")
#: The example's peer line, whose token source the tests below change.
PEER = "token_env: HOTLINE_PEER_TOKEN_LUBEI}"


def _with_peer_source(source: str) -> str:
    assert PEER in TEXT, "the example's peer no longer reads HOTLINE_PEER_TOKEN_LUBEI"
    return TEXT.replace(PEER, source + "}" if source else "}").replace(", }", "}")


def _peer(**source: str) -> Peer:
    return Peer(district="lubei", url="http://lubei:8080", **source)


def test_the_token_comes_from_the_environment_variable_named() -> None:
    peer = _peer(token_env="HOTLINE_PEER_TOKEN_LUBEI")
    assert peer_token(peer, {"HOTLINE_PEER_TOKEN_LUBEI": " s3cret\n"}) == "s3cret"
    for env in ({}, {"HOTLINE_PEER_TOKEN_LUBEI": "  "}):
        with pytest.raises(NoPeerToken, match="HOTLINE_PEER_TOKEN_LUBEI is not set"):
            peer_token(peer, env)


def test_the_token_comes_from_the_file_named_read_at_each_lookup(tmp_path: Path) -> None:
    secret = tmp_path / "lubei.token"
    peer = _peer(token_file=str(secret))
    with pytest.raises(NoPeerToken, match=r"cannot read .*lubei\.token"):
        peer_token(peer, {})
    secret.write_text("first\n", encoding="utf-8")
    assert peer_token(peer, {}) == "first"
    secret.write_text("rotated", encoding="utf-8")  # a Secret updated in place: no restart
    assert peer_token(peer, {}) == "rotated"
    secret.write_text("\n", encoding="utf-8")
    with pytest.raises(NoPeerToken, match="is empty"):
        peer_token(peer, {})


def test_an_inline_token_still_works_and_no_source_is_an_error() -> None:
    assert peer_token(_peer(token="inline"), {}) == "inline"
    with pytest.raises(NoPeerToken, match="no token_env, token_file or token"):
        peer_token(_peer(), {})


def test_a_relative_token_file_is_found_beside_the_district_file(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "lubei").write_text("from-file\n", encoding="utf-8")
    district = tmp_path / "district.yaml"
    district.write_text(_with_peer_source("token_file: secrets/lubei"), encoding="utf-8")
    (peer,) = load_config(district).peers
    assert Path(peer.token_file or "") == tmp_path / "secrets" / "lubei"
    assert peer_token(peer, {}) == "from-file"


def test_one_source_only_and_only_a_peer_token_variable() -> None:
    both = _with_peer_source("token_env: HOTLINE_PEER_TOKEN_LUBEI, token: abc")
    with pytest.raises(ConfigError, match="names token and token_env: give one source"):
        parse_config(both, "d.yaml")
    # a district file must not send another setting (the ledger's password) to a peer
    with pytest.raises(ConfigError, match=r"peers\.0\.token_env"):
        parse_config(_with_peer_source("token_env: HOTLINE_DATABASE_URL"), "d.yaml")


def test_the_router_names_the_peers_it_has_no_token_for() -> None:
    config = parse_config(TEXT, "d.yaml")
    assert missing_peer_tokens(config, {"HOTLINE_PEER_TOKEN_LUBEI": "t"}) is None
    problem = missing_peer_tokens(config, {})
    assert problem is not None
    assert "peer lubei: HOTLINE_PEER_TOKEN_LUBEI is not set" in problem
    assert "manual triage" in problem


def test_config_check_warns_of_a_peer_without_any_token_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    district = tmp_path / "district.yaml"
    district.write_text(_with_peer_source(""), encoding="utf-8")
    assert config_check(argparse.Namespace(file=str(district))) == 0  # a warning, not an error
    out = capsys.readouterr().out
    assert "warning: peer 'lubei' has no token (token_env, token_file or token)" in out
    assert " 1 warnings" in out
    # any one source quiets it, whether or not it is set where the check runs
    for source in ("token_env: HOTLINE_PEER_TOKEN_LUBEI", "token_file: lubei", "token: abc"):
        district.write_text(_with_peer_source(source), encoding="utf-8")
        assert config_check(argparse.Namespace(file=str(district))) == 0
        assert " 0 warnings" in capsys.readouterr().out, source


def test_the_schema_names_the_token_sources_and_allows_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert config_schema(argparse.Namespace()) == 0
    peer = json.loads(capsys.readouterr().out)["$defs"]["Peer"]
    assert {"token", "token_env", "token_file"} <= set(peer["properties"])
    patterns = [a.get("pattern") for a in peer["properties"]["token_env"]["anyOf"]]
    assert "^HOTLINE_PEER_TOKEN_[A-Z0-9_]+$" in patterns
    pairs = {frozenset(rule["required"]) for rule in peer["not"]["anyOf"]}
    assert pairs == {
        frozenset(p)
        for p in (("token", "token_env"), ("token", "token_file"), ("token_env", "token_file"))
    }
