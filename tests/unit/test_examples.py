"""The two example districts pass `hotline config check` and route 1,000 requests as documented.

docs/examples.md says who gets what; tests/samples.py writes that down a second
time, without the router, and generates the requests. Here the router decides
each of them at three fixed moments, and must agree every time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline.cli.config import config_check
from hotline.intake.requests import check_request
from hotline.intake.schemas import NewRequest
from hotline.shared.configuration.file import load_config
from hotline.shared.domain.config import AREA_OWNER, DistrictConfig
from hotline.shared.domain.routing import RouteRequest, Rules
from tests.harness import HOTLINE
from tests.samples import DISTRICTS, EXAMPLES, MOMENTS, Clock, Expected, Sample, expect, samples

COUNT = 1000


def _rules(district: str) -> Rules:
    return Rules(load_config(EXAMPLES / f"{district}.yaml"))


def _decided(
    rules: Rules, sample: Sample, now: datetime, load: dict[str, int] | None = None
) -> Expected:
    where = NewRequest.model_validate(sample.request).location
    request = sample.request
    decision = rules.decide(
        RouteRequest(
            request["category"],
            request["urgency"],
            request["channel"],
            where.area_code,
            where.lat,
            where.lon,
        ),
        now=now,
        load=load,
    )
    return Expected(decision.unit, decision.transfer_to, decision.observers)


@pytest.mark.parametrize("district", DISTRICTS)
def test_example_passes_config_check_without_warnings(
    district: str, capsys: pytest.CaptureFixture[str]
) -> None:
    file = EXAMPLES / f"{district}.yaml"
    assert config_check(argparse.Namespace(file=str(file))) == 0
    out = capsys.readouterr().out
    assert f"ok: district {district}," in out and " 0 warnings" in out, out


@pytest.mark.parametrize("district", DISTRICTS)
def test_samples_are_requests_the_api_takes_and_the_same_every_time(district: str) -> None:
    rules = _rules(district)
    made = samples(district, COUNT)
    assert len(made) == COUNT
    for sample in made:
        check_request(rules, NewRequest.model_validate(sample.request))  # what the intake does
    assert [s.request for s in made] == [s.request for s in samples(district, COUNT)]
    assert [s.request for s in made] != [s.request for s in samples(district, COUNT, seed=7)]


@pytest.mark.parametrize("district", DISTRICTS)
def test_every_sample_goes_where_the_document_says(district: str) -> None:
    rules = _rules(district)
    wrong = []
    for moment_name, moment in MOMENTS.items():
        for sample in samples(district, COUNT):
            got = _decided(rules, sample, moment)
            if got != sample.expected[moment_name]:
                wrong.append((moment_name, sample.request, sample.expected[moment_name], got))
    assert not wrong, f"{len(wrong)} differ; the first: {wrong[0]}"


def test_a_full_counselling_rota_sends_the_call_down_the_table() -> None:
    """Row 12's exception: a rota with its full load of open tasks takes no more."""
    rules = _rules("chunshan")
    capacity = {u.id: u.capacity for u in rules.config.units if u.capacity}
    assert capacity == {"counselling-day": 20, "counselling-night": 10}
    counselling = [s for s in samples("chunshan", COUNT) if s.request["category"] == "counselling"]
    assert len(counselling) > 20
    for moment in MOMENTS.values():
        for sample in counselling:
            full = _decided(rules, sample, moment, load=capacity)
            assert full == expect("chunshan", sample, Clock.at(moment), frozenset(capacity))
            assert full != _decided(rules, sample, moment) or sample.peer


@pytest.mark.parametrize("district", DISTRICTS)
def test_samples_reach_every_unit_a_transfer_and_manual_triage(district: str) -> None:
    """Otherwise the comparison above would prove little about the rules it never exercises."""
    outcomes: Counter[str] = Counter()
    for sample in samples(district, COUNT):
        for expected in sample.expected.values():
            if expected.transfer_to:
                outcomes["transfer"] += 1
            outcomes[expected.unit or "triage"] += 1
            outcomes.update(expected.observers)
    config = _rules(district).config
    units = set(config.unit_ids) - _only_told(config)
    assert units | {"triage", "transfer"} <= set(outcomes), sorted(units - set(outcomes))


def _only_told(config: DistrictConfig) -> set[str]:
    """Units that no rule can send a task to and that exist to hear escalations (the
    district leadership): routing samples cannot reach them, and need not."""
    named = {r.unit for r in config.routes if r.unit} | {u for r in config.routes for u in r.pool}
    if AREA_OWNER in named:
        named |= {u.id for u in config.units if u.areas}
    listeners = {config.sla.leadership, config.sla.supervision_group}
    unrouted = set(config.unit_ids) - named
    assert unrouted <= listeners, f"no rule reaches {sorted(unrouted - listeners)}"
    return unrouted


def test_the_clock_of_the_fixed_moments() -> None:
    assert Clock.at(MOMENTS["business"]) == Clock(business=True, night=False, day_rota=True)
    assert Clock.at(MOMENTS["night"]) == Clock(business=False, night=True, day_rota=False)
    assert Clock.at(MOMENTS["weekend"]) == Clock(business=False, night=False, day_rota=True)


def _pick_for_cli(made: list[Sample]) -> list[Sample]:
    """A few samples of different kinds: a transfer, a triage, map points, codes, copies."""
    kinds: dict[str, Callable[[Sample], bool]] = {
        "transfer": lambda s: s.peer is not None,
        "triage": lambda s: not s.peer and s.expected["business"].unit is None,
        "point": lambda s: "area_code" not in s.request["location"],
        "both": lambda s: {"area_code", "lat"} <= set(s.request["location"]),
        "copied": lambda s: bool(s.expected["business"].observers),
        "code": lambda s: "lat" not in s.request["location"] and bool(s.chain),
    }
    return [next(s for s in made if test(s)) for test in kinds.values()]


@pytest.mark.parametrize("district", DISTRICTS)
def test_hotline_route_agrees_for_a_few_samples(district: str, tmp_path: Path) -> None:
    """The real command, as a dispatcher runs it: it decides at the current time."""
    config = EXAMPLES / f"{district}.yaml"
    for index, sample in enumerate(_pick_for_cli(samples(district, COUNT))):
        file = tmp_path / f"request-{index}.json"
        file.write_text(json.dumps(sample.request), encoding="utf-8")
        before = expect(district, sample, Clock.at(datetime.now(UTC)))
        run = subprocess.run(
            [HOTLINE, "route", "--config", str(config), "--request", str(file), "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        after = expect(district, sample, Clock.at(datetime.now(UTC)))
        assert run.returncode == 0, run.stderr
        decision = json.loads(run.stdout)
        got = Expected(decision["unit"], decision["transfer_to"], tuple(decision["observers"]))
        assert got in (before, after), (sample.request, before, got)
