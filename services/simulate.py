"""``hotline simulate``: a realistic load against a running system, through its HTTP API.

Call-takers post requests at a steady random rate, with a mix of categories,
urgencies and channels like a district hotline's, located in the district
file's areas. Units are played too: a share of them sign for their tasks
after a while and resolve them later (a few return one as not theirs); the
rest never answer, so their clocks run out and escalate. It prints progress as
it goes and a summary at the end; nothing here reads the ledger or a broker.
Callers and phone numbers are made up.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx

from hotline.shared.domain.config import DistrictConfig
from hotline.shared.metrics import top_category

#: How often a top-level category comes in, for the categories a hotline usually has
#: (others weigh 1): daily needs and complaints lead, policy questions follow.
CATEGORY_WEIGHTS = {
    "supplies": 6, "complaint": 5, "consult": 4, "mobility": 3, "medical": 3,
}  # fmt: skip
URGENCY_WEIGHTS = {"normal": 70, "urgent": 25, "critical": 5}
CHANNEL_WEIGHTS = {"phone": 80, "web": 8, "app": 8, "sms": 2, "walk-in": 2}
#: Share of calls the call-taker answers on the spot (policy questions, mostly).
ANSWERED_AT_INTAKE = 0.1


@dataclass(frozen=True)
class Plan:
    """How hard and how long to push, and how the units behave."""

    rate: float = 2.0
    duration: float = 60.0
    count: int | None = None
    responsive_share: float = 0.6
    sign_after: float = 2.0
    resolve_after: float = 5.0
    return_share: float = 0.05
    settle: float = 10.0
    progress_every: float = 5.0
    poll_every: float = 1.0
    seed: int | None = None


class Mix:
    """Draws requests like the district's: its leaf categories, its areas, our weights."""

    def __init__(self, config: DistrictConfig, rng: random.Random) -> None:
        self._rng = rng
        self._district = config.district
        ids = [c.id for c in config.categories]
        leaves = [c for c in ids if not any(o.startswith(c + ".") for o in ids)]
        self._categories = leaves or ids
        self._category_weights = [CATEGORY_WEIGHTS.get(top_category(c), 1) for c in leaves]
        self._areas = [a.id for a in config.areas] or [config.district]
        self._serial = 0

    def request(self) -> dict[str, Any]:
        """The next request, as a call-taker would post it."""
        rng, self._serial = self._rng, self._serial + 1
        category = rng.choices(self._categories, self._category_weights)[0]
        area = rng.choice(self._areas)
        answered = rng.random() < ANSWERED_AT_INTAKE
        on_the_spot = {"resolved_at_intake": True, "answer": "Explained the policy on the phone"}
        return (on_the_spot if answered else {}) | {
            "district": self._district,
            "channel": _weighted(rng, CHANNEL_WEIGHTS),
            "caller": {"name": f"Simulated caller {self._serial}", "phone": "+86 100 0000 0000"},
            "location": {"area_code": area, "address": f"Simulated address {self._serial}"},
            "category": category,
            "description": f"Simulated request {self._serial} about {category}",
            "urgency": _weighted(rng, URGENCY_WEIGHTS),
        }


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def responsive_units(config: DistrictConfig, share: float, rng: random.Random) -> set[str]:
    """The units that answer their tasks: ``share`` of them, at least one when share > 0."""
    units = sorted(config.unit_ids)
    count = min(len(units), max(round(len(units) * share), 1 if share > 0 else 0))
    return set(rng.sample(units, count))


@dataclass
class Tally:
    """What happened, for the progress lines and the summary."""

    sent: int = 0
    accepted: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    assigned: Counter[str] = field(default_factory=Counter)
    triage: int = 0
    signed: int = 0
    resolved: int = 0
    returned: int = 0
    ignored: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    urgencies: Counter[str] = field(default_factory=Counter)

    def line(self, elapsed: float) -> str:
        """One progress line."""
        return (
            f"{elapsed:6.1f}s  sent {self.sent}  accepted {self.accepted}"
            f"  refused {sum(self.refused.values())}  errors {self.errors}"
            f"  assigned {sum(self.assigned.values())}  triage {self.triage}"
            f"  signed {self.signed}  resolved {self.resolved}  returned {self.returned}"
            f"  ignored {self.ignored}"
        )


@dataclass
class _Tracked:
    """A ticket the simulated units still have to act on."""

    id: str
    seen: int = 0  # assignments seen so far; a new one is a new task
    unit: str | None = None
    act_at: float = 0.0
    fate: str = ""  # "sign", "resolve", "return"


class Simulation:
    """Posts requests and plays the units, against the intake at ``url``."""

    def __init__(
        self,
        url: str,
        config: DistrictConfig,
        plan: Plan,
        out: TextIO = sys.stdout,
        token: str | None = None,
    ) -> None:
        self._url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._plan = plan
        self._rng = random.Random(plan.seed)
        self._mix = Mix(config, self._rng)
        self.responsive = responsive_units(config, plan.responsive_share, self._rng)
        self.tally = Tally()
        self._tracked: dict[str, _Tracked] = {}
        self._out = out
        self._clock: Callable[[], float] = time.monotonic

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    async def run(self) -> Tally:
        """Send for the plan's duration (or count), let the units finish, print the summary."""
        plan = self._plan
        self._say(
            f"simulate: {plan.rate:g} requests/s for "
            + (f"{plan.count} requests" if plan.count else f"{plan.duration:g}s")
            + f" against {self._url}; units that answer: {', '.join(sorted(self.responsive))}"
        )
        start = self._clock()
        async with httpx.AsyncClient(
            base_url=self._url, timeout=10, headers=self._headers
        ) as client:
            units = asyncio.create_task(self._play_units(client))
            progress = asyncio.create_task(self._progress(start))
            try:
                await self._send(client, start)
                settle_until = self._clock() + plan.settle
                while self._waiting() and self._clock() < settle_until:
                    await asyncio.sleep(plan.poll_every / 2)
            finally:
                units.cancel()
                progress.cancel()
                await asyncio.gather(units, progress, return_exceptions=True)
        self._say(self.tally.line(self._clock() - start))
        self._say(self.summary())
        return self.tally

    def _waiting(self) -> bool:
        return any(t.fate for t in self._tracked.values()) or any(
            t.unit is None for t in self._tracked.values()
        )

    async def _send(self, client: httpx.AsyncClient, start: float) -> None:
        plan, pending = self._plan, set[asyncio.Task[None]]()
        next_at = start
        while True:
            if plan.count is not None and self.tally.sent >= plan.count:
                break
            if plan.count is None and self._clock() - start >= plan.duration:
                break
            next_at += self._rng.expovariate(plan.rate)
            await asyncio.sleep(max(next_at - self._clock(), 0))
            self.tally.sent += 1
            task = asyncio.create_task(self._post(client, self._mix.request()))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending)

    async def _post(self, client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        try:
            response = await client.post("/api/v1/requests", json=body)
        except httpx.HTTPError:
            self.tally.errors += 1
            return
        if response.status_code != 201:
            self.tally.refused[response.status_code] += 1
            return
        self.tally.accepted += 1
        self.tally.categories[top_category(body["category"])] += 1
        self.tally.urgencies[body["urgency"]] += 1
        ticket_id = response.json()["id"]
        self._tracked[ticket_id] = _Tracked(ticket_id)

    async def _progress(self, start: float) -> None:
        while True:
            await asyncio.sleep(self._plan.progress_every)
            self._say(self.tally.line(self._clock() - start))

    async def _play_units(self, client: httpx.AsyncClient) -> None:
        while True:
            await asyncio.sleep(self._plan.poll_every)
            for tracked in list(self._tracked.values()):
                try:
                    await self._step(client, tracked)
                except httpx.HTTPError:
                    self.tally.errors += 1

    async def _step(self, client: httpx.AsyncClient, tracked: _Tracked) -> None:
        """Look at one ticket; act for its unit when the time has come."""
        now = self._clock()
        if tracked.fate and now < tracked.act_at:
            return
        response = await client.get(f"/api/v1/requests/{tracked.id}")
        if response.status_code != 200:
            return
        ticket = response.json()
        state, unit = ticket["state"], ticket.get("unit_id")
        if state in ("resolved", "transferred", "transfer-pending"):
            self._tracked.pop(tracked.id, None)
            return
        if state == "triage":
            self.tally.triage += 1
            self._tracked.pop(tracked.id, None)
            return
        assignments = len(ticket.get("assignments") or ())
        if state == "assigned" and assignments > tracked.seen and unit is not None:
            self._new_task(tracked, unit, assignments)
            return
        if not tracked.fate or unit != tracked.unit:
            return
        await self._act(client, tracked, state)

    def _new_task(self, tracked: _Tracked, unit: str, assignments: int) -> None:
        tracked.seen, tracked.unit = assignments, unit
        self.tally.assigned[unit] += 1
        if unit not in self.responsive:
            self.tally.ignored += 1
            self._tracked.pop(tracked.id, None)
            return
        returns = tracked.seen == 1 and self._rng.random() < self._plan.return_share
        tracked.fate = "return" if returns else "sign"
        tracked.act_at = self._clock() + self._rng.expovariate(1 / self._plan.sign_after)

    async def _act(self, client: httpx.AsyncClient, tracked: _Tracked, state: str) -> None:
        path = f"/api/v1/requests/{tracked.id}"
        if tracked.fate == "return" and state == "assigned":
            body = {"unit_id": tracked.unit, "reason": "not ours (simulated)"}
            if (await client.post(f"{path}/return", json=body)).status_code == 200:
                self.tally.returned += 1
            tracked.fate = ""  # the router owes it a new unit; watch for it
        elif tracked.fate == "sign" and state == "assigned":
            if (
                await client.post(f"{path}/ack", json={"unit_id": tracked.unit})
            ).status_code == 200:
                self.tally.signed += 1
            tracked.fate = "resolve"
            tracked.act_at = self._clock() + self._rng.expovariate(1 / self._plan.resolve_after)
        elif tracked.fate == "resolve" and state == "signed-for":
            body = {"unit_id": tracked.unit, "result": "Done (simulated)"}
            if (await client.post(f"{path}/resolve", json=body)).status_code == 200:
                self.tally.resolved += 1
            self._tracked.pop(tracked.id, None)

    def summary(self) -> str:
        """The end-of-run report: totals, then the mix and each unit's tasks."""
        t = self.tally
        lines = [
            "summary:",
            f"  requests   sent {t.sent}, accepted {t.accepted}, refused "
            f"{dict(t.refused) or 0}, errors {t.errors}",
            f"  tasks      assigned {sum(t.assigned.values())}, to triage {t.triage},"
            f" signed for {t.signed}, resolved {t.resolved}, returned {t.returned},"
            f" never answered {t.ignored}",
            "  categories " + _counts(t.categories),
            "  urgencies  " + _counts(t.urgencies),
            "  units      "
            + (
                ", ".join(
                    f"{unit} {n}{'' if unit in self.responsive else ' (silent)'}"
                    for unit, n in sorted(t.assigned.items())
                )
                or "none"
            ),
        ]
        return "\n".join(lines)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in counter.most_common()) or "none"


def simulate(url: str, config: DistrictConfig, plan: Plan, token: str | None = None) -> int:
    """Run a simulation; exit 1 if nothing was accepted (a wrong URL or district)."""
    tally = asyncio.run(Simulation(url, config, plan, token=token).run())
    if not tally.accepted:
        print(
            f"simulate: nothing was accepted; is the intake running at {url}, and is the"
            f" district file its own (district {config.district!r})?",
            file=sys.stderr,
        )
        return 1
    return 0
