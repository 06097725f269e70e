"""District files: the example is valid; broken ones are refused with line and reason."""

import subprocess
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from hotline.shared.configuration.file import EXAMPLE, ConfigError, load_config, parse_config
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.durations import format_duration, parse_duration
from tests.harness import HOTLINE

TEXT = EXAMPLE.read_text(encoding="utf-8")


def test_example_district_loads() -> None:
    config = load_config(None)
    assert config.district == "lunan"
    assert "health-bureau" in config.unit_ids


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"bad\.yaml:3: not valid YAML"):
        parse_config("district: x\nname: y\n\tunits: 1\n", "bad.yaml")


def test_field_error_names_the_line_and_field() -> None:
    broken = TEXT.replace(
        "{level: 2, name: unit-leader, after: 0s", "{level: 0, name: unit-leader, after: 0s"
    )
    line = next(i for i, t in enumerate(broken.splitlines(), 1) if "level: 0" in t)
    with pytest.raises(ConfigError) as caught:
        parse_config(broken, "d.yaml")
    assert f"d.yaml:{line}: sla.ladders.sign-for.1.level" in str(caught.value)


def test_unknown_unit_in_route_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown unit 'nobody'"):
        parse_config(TEXT.replace("unit: transport-team", "unit: nobody"), "d.yaml")


def test_every_dangling_name_is_reported_at_its_own_line() -> None:
    broken = (
        TEXT.replace("unit: transport-team", "unit: nobody")
        .replace("supervisor: service-office", "supervisor: boss", 1)
        .replace("{id: medical, name", "{id: supplies, name")
    )
    lines = broken.splitlines()

    def line_of(text: str) -> int:
        return next(i for i, t in enumerate(lines, 1) if text in t)

    with pytest.raises(ConfigError) as caught:
        parse_config(broken, "d.yaml")
    report = str(caught.value).splitlines()
    assert f"d.yaml:{line_of('unit: nobody')}: routes" in "\n".join(report)
    assert any(r.startswith(f"d.yaml:{line_of('supervisor: boss')}: units.") for r in report)
    assert any(
        r.startswith(f"d.yaml:{line_of('{id: supplies, name: Medical')}: categories.")
        and "'supplies' appears twice" in r
        for r in report
    )
    assert len(report) >= 3


def test_bad_district_id_is_refused() -> None:
    with pytest.raises(ConfigError, match="lower-case"):
        parse_config(TEXT.replace("district: lunan", "district: Lu Nan"), "d.yaml")


def _district(**fields: Any) -> dict[str, Any]:
    """A small district file, as YAML hands it to the model, with ``fields`` added."""
    return {
        "district": "tiny",
        "name": "Tiny",
        "categories": [{"id": "consult", "name": "Questions"}],
        "units": [{"id": "desk", "name": "Desk"}],
        "routes": [{"name": "all", "unit": "desk"}],
    } | fields


_NIGHT = {"name": "nights", "unit": "desk"}


@pytest.mark.parametrize(
    ("fields", "loc", "quoted", "yaml_read"),
    [
        ({"business_hours": {"open": 510}}, ("business_hours", "open"), "08:30", "8:30"),
        ({"business_hours": {"close": 1050}}, ("business_hours", "close"), "17:30", "17:30"),
        (
            {"units": [{"id": "desk", "name": "Desk", "hours": {"open": 1320}}]},
            ("units", 0, "hours", "open"),
            "22:00",
            "22:00",
        ),
        (
            {"sla": {"working_time": {"hours": [{"start": 510, "end": "12:00"}]}}},
            ("sla", "working_time", "hours", 0, "start"),
            "08:30",
            "8:30",
        ),
        (
            {"sla": {"working_time": {"hours": [510]}}},
            ("sla", "working_time", "hours", 0),
            "22:00-06:00",
            "8:30",
        ),
        (
            {"routes": [_NIGHT | {"match": {"time": {"start": "22:00", "end": 360}}}]},
            ("routes", 0, "match", "time", "end"),
            "06:00",
            "6:00",
        ),
        (
            {"routes": [_NIGHT | {"match": {"time": 1320}}]},
            ("routes", 0, "match", "time"),
            "22:00-06:00",
            "22:00",
        ),
        ({"business_hours": {"open": 30600}}, ("business_hours", "open"), "08:30:00", "8:30:00"),
    ],
)
def test_a_number_for_a_time_of_day_is_refused_saying_to_quote_it(
    fields: dict[str, Any], loc: tuple[str | int, ...], quoted: str, yaml_read: str
) -> None:
    """YAML 1.1 reads an unquoted ``8:30`` as 510; pydantic would take that for 00:08:30."""
    with pytest.raises(ValidationError) as caught:
        DistrictConfig.model_validate(_district(**fields))
    [error] = caught.value.errors()
    assert tuple(error["loc"]) == loc
    assert f'quote it, as in "{quoted}"' in error["msg"]
    assert f"an unquoted {yaml_read} as the number" in error["msg"]


@pytest.mark.parametrize("number", [8, 8.5, -510, 86400])
def test_any_number_for_a_time_of_day_is_refused(number: float) -> None:
    """Not only the ones YAML made from ``H:MM``: a time of day is never a number."""
    with pytest.raises(ValidationError, match=r'quote it, as in "08:30" \(not the number'):
        DistrictConfig.model_validate(_district(business_hours={"open": number}))


def test_a_quoted_time_of_day_still_loads() -> None:
    config = DistrictConfig.model_validate(
        _district(
            business_hours={"open": "08:30", "close": time(17, 30)},
            routes=[_NIGHT | {"match": {"time": "22:00-06:00"}}],
        )
    )
    assert (config.business_hours.open, config.business_hours.close) == (time(8, 30), time(17, 30))
    assert str(config.routes[0].match.time) == "22:00-06:00"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "none.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1h30m", 5400)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "10", "5 minutes", "-1s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize("value", [{}, [], None, True, float("nan"), float("inf")])
def test_a_duration_of_the_wrong_type_is_a_clear_error(value: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)


NO_AREAS = """\
district: bare
name: A district file that lists no areas
categories:
  - {id: consult, name: Questions}
units:
  - id: desk
    name: The only desk
    areas: ["42"]
    contacts: [{channel: sms, address: "+86-315-0000000"}]
routes:
  - {name: a typo, match: {area: "999"}, unit: desk}
"""


def test_a_file_without_areas_may_not_name_one() -> None:
    """No areas is no licence: each code the file names is refused at its own line."""
    lines = NO_AREAS.splitlines()
    with pytest.raises(ConfigError) as caught:
        parse_config(NO_AREAS, "bare.yaml")
    report = str(caught.value).splitlines()
    unit_line = next(i for i, t in enumerate(lines, 1) if 'areas: ["42"]' in t)
    route_line = next(i for i, t in enumerate(lines, 1) if '"999"' in t)
    assert f"bare.yaml:{unit_line}: units.0.areas: unit 'desk' names unknown area '42'" in report
    assert (
        f"bare.yaml:{route_line}: routes.0.match.area: route 'a typo' names unknown area '999'"
        in report
    )


def test_a_file_without_areas_that_names_none_loads() -> None:
    """Areas stay optional: a district may route on category alone."""
    text = NO_AREAS.replace('    areas: ["42"]\n', "").replace('match: {area: "999"}', "match: {}")
    config = parse_config(text, "bare.yaml")
    assert config.areas == ()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (90, "1m30s"), (7200, "2h"), (86400, "1d"), (5400, "1h30m"), (1.5, "1.5s")],
)
def test_a_duration_is_written_as_a_file_writes_it(seconds: float, text: str) -> None:
    """The schema shows defaults this way, so each must read back as the same duration."""
    assert format_duration(timedelta(seconds=seconds)) == text
    assert parse_duration(text) == timedelta(seconds=seconds)


def _config_check(path: Path) -> subprocess.CompletedProcess[str]:
    """``hotline config check`` as a dispatcher or a CI step runs it: the real console script."""
    return subprocess.run(
        [HOTLINE, "config", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_config_check_exits_1_on_a_broken_reference_naming_file_and_line(
    tmp_path: Path,
) -> None:
    broken = TEXT.replace("unit: transport-team", "unit: nobody")
    line = next(i for i, t in enumerate(broken.splitlines(), 1) if "unit: nobody" in t)
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    run = _config_check(path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{path}:{line}: routes." in run.stderr
    assert "unknown unit 'nobody'" in run.stderr
    assert "ok:" not in run.stdout


def test_config_check_exits_0_when_there_are_only_warnings(tmp_path: Path) -> None:
    """A unit nobody can reach is worth saying, not worth refusing the file for."""
    silent = TEXT.replace('    contacts: [{channel: phone, address: "+86-315-2863000"}]\n', "")
    assert silent != TEXT
    path = tmp_path / "silent.yaml"
    path.write_text(silent, encoding="utf-8")
    run = _config_check(path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{path}: warning: unit 'transport-team' has no contact" in run.stdout
    assert f"{path}: ok: district lunan" in run.stdout
    assert "1 warnings" in run.stdout


def test_config_check_exits_1_on_an_unquoted_time_of_day_naming_file_line_and_field(
    tmp_path: Path,
) -> None:
    broken = TEXT.replace('open: "08:30"', "open: 8:30")
    assert broken != TEXT
    line = next(i for i, t in enumerate(broken.splitlines(), 1) if "open: 8:30" in t)
    path = tmp_path / "unquoted.yaml"
    path.write_text(broken, encoding="utf-8")
    run = _config_check(path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert (
        f'{path}:{line}: business_hours.open: a time of day is text: quote it, as in "08:30"'
        " (YAML reads an unquoted 8:30 as the number 510)"
    ) in run.stderr
    assert "ok:" not in run.stdout
