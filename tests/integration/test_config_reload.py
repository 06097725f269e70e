"""A district file changed on disk is taken without a restart; a broken one is refused
and the config in force stays."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest

from hotline.shared.configuration.file import EXAMPLE
from hotline.shared.configuration.source import ConfigSource
from hotline.shared.domain.routing import RouteRequest
from hotline.shared.domain.ticket import Urgency
from tests.unit.test_routing import DAY

FOOD = RouteRequest("supplies.food", Urgency.NORMAL, area_code="130202001")


def _write(path: Path, text: str, bump: int) -> None:
    path.write_text(text, encoding="utf-8")
    stamp = path.stat().st_mtime + bump  # a new mtime even within the clock's resolution
    os.utime(path, (stamp, stamp))


def test_a_valid_change_is_taken_and_a_broken_one_keeps_the_old(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "district.yaml"
    original = EXAMPLE.read_text(encoding="utf-8")
    _write(path, original, 0)
    source = ConfigSource(path)
    seen: list[str] = []
    source.on_reload(lambda config: seen.append(config.name))
    assert source.rules.decide(FOOD, now=DAY).unit == "friendship-street"

    moved = original.replace("unit: friendship-street}", "unit: wenhua-street}")
    _write(path, moved.replace("name: Lunan District service office", "name: Moved"), 1)
    assert source.reload()
    assert source.rules.decide(FOOD, now=DAY).unit == "wenhua-street"
    assert seen == ["Moved"]

    _write(path, moved.replace("unit: wenhua-street}", "unit: nobody}"), 2)
    with caplog.at_level(logging.ERROR):
        assert not source.reload()
    assert source.rules.decide(FOOD, now=DAY).unit == "wenhua-street"
    assert "sends to unknown unit 'nobody'" in caplog.text
    assert f"{path}:" in caplog.text  # the file and line are named
    assert seen == ["Moved"]


def test_the_watcher_reloads_on_file_change_and_on_sighup(tmp_path: Path) -> None:
    path = tmp_path / "district.yaml"
    original = EXAMPLE.read_text(encoding="utf-8")
    _write(path, original, 0)
    source = ConfigSource(path)
    names: list[str] = []
    source.on_reload(lambda config: names.append(config.name))

    async def scenario() -> None:
        stop = asyncio.Event()
        watcher = asyncio.create_task(source.watch(stop))
        await asyncio.sleep(0.1)
        _write(path, original.replace("Lunan District service office", "Changed"), 5)
        for _ in range(50):
            if names:
                break
            await asyncio.sleep(0.1)
        os.kill(os.getpid(), signal.SIGHUP)  # same file: reloaded all the same
        for _ in range(50):
            if len(names) == 2:
                break
            await asyncio.sleep(0.1)
        stop.set()
        await watcher

    asyncio.run(scenario())
    assert names == ["Changed", "Changed"]
