"""Routing benchmark: how fast the router decides the example districts' sample requests.

Pure domain code, no broker and no database: it loads each example district,
builds the sample requests of tests/samples.py and times ``Rules.decide`` on
every one, at each of the fixed moments. It prints decisions per second and the
time per decision (p50, p99), and checks each decision against the documented
expectation as it goes, so a fast wrong router does not pass for a fast one.

    .venv/bin/python -m bench.examples [--count 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

from hotline.intake.schemas import NewRequest
from hotline.shared.configuration.file import load_config
from hotline.shared.domain.routing import RouteRequest, Rules
from tests.samples import DISTRICTS, EXAMPLES, MOMENTS, Expected, samples


def bench(district: str, count: int, rounds: int) -> str:
    """Time every decision of ``rounds`` passes over the samples at every moment."""
    rules = Rules(load_config(EXAMPLES / f"{district}.yaml"))
    cases = []
    for sample in samples(district, count):
        where = NewRequest.model_validate(sample.request).location
        body = sample.request
        request = RouteRequest(
            body["category"],
            body["urgency"],
            body["channel"],
            where.area_code,
            where.lat,
            where.lon,
        )
        cases.append((request, sample.expected))
    timings: list[float] = []
    started = time.perf_counter()
    for _ in range(rounds):
        for name, moment in MOMENTS.items():
            for request, expected in cases:
                t0 = time.perf_counter()
                decision = rules.decide(request, now=moment)
                timings.append(time.perf_counter() - t0)
                got = Expected(decision.unit, decision.transfer_to, decision.observers)
                if got != expected[name]:
                    raise SystemExit(f"{district}: {request} at {name}: {got} != {expected[name]}")
    wall = time.perf_counter() - started
    p50, p99 = (statistics.quantiles(timings, n=100)[i] * 1e6 for i in (49, 98))
    return (
        f"{district:9} {len(timings):6} decisions, all as documented: "
        f"{len(timings) / wall:8.0f}/s (with the checks), "
        f"decide p50 {p50:5.0f} µs, p99 {p99:5.0f} µs"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.examples", description=__doc__)
    parser.add_argument("--count", type=int, default=1000, help="sample requests per district")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the samples")
    args = parser.parse_args(argv)
    for district in DISTRICTS:
        print(bench(district, args.count, args.rounds), flush=True)


if __name__ == "__main__":
    main()
