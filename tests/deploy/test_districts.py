"""The example district files that the deployments mount pass `hotline config check`."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from hotline.cli.config import config_check
from hotline.shared.configuration.file import load_config
from tests.deploy.helpers import COMPOSE, OVERLAYS

DISTRICTS = sorted((COMPOSE / "districts").glob("*/district.yaml"))
FILES = DISTRICTS + [overlay / "district.yaml" for overlay in OVERLAYS]


def test_there_are_two_example_districts() -> None:
    assert len(DISTRICTS) >= 2


@pytest.mark.parametrize("file", FILES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_district_file_passes_config_check_without_warnings(
    file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert config_check(argparse.Namespace(file=str(file))) == 0, capsys.readouterr().out
    assert " 0 warnings" in capsys.readouterr().out
    assert load_config(file).district == file.parent.name, "name the folder after the district"


def test_districts_have_their_own_units() -> None:
    units = [set(load_config(file).unit_ids) for file in DISTRICTS]
    assert not set.intersection(*units), "the examples show districts with units of their own"
