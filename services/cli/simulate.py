"""``hotline simulate``: a realistic day against a running system, through its HTTP API.

Call-takers post requests as a district hotline receives them: few at night,
a morning and an evening peak (:data:`HOURLY`), a category mix after the
seeds' bulletins (daily supplies, medical treatment, cross-region mobility,
complaints about community control, policy questions), mostly by phone, and
in the evening a burst of one category in one community; a share (a tenth by
default, ``--first-contact``) is answered on the spot by the call-taker
(first-contact resolution). Units are played
too: most sign for their tasks after a while, report progress, sometimes ask
for more time (a supervisor approves), and resolve with a result; a few
return a task as not theirs; a few never answer, so their clocks run out and
escalate. The feedback group then asks some citizens what they thought.

Times are simulated: ``speed`` 60 runs a day in 24 minutes, and every delay
(a unit's, the feedback group's) is divided by it too. The SLA clocks of the
system run in real time, so a fast run meets more deadlines than a real day.
A progress bar goes to stderr; the summary to stdout (``--json`` for
machines). Nothing here reads the ledger or a broker; callers are made up.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx

from hotline.shared.domain.config import AreaLevel, DistrictConfig
from hotline.shared.observability.metrics import top_category

#: How often a top-level category comes in (others weigh 1), after the seeds' bulletins:
#: "material support, medical treatment and cross-regional mobility" lead in Lunan,
#: complaints about community control measures in Changchun; policy questions follow.
CATEGORY_WEIGHTS = {
    "supplies": 6, "complaint": 4, "medical": 4, "mobility": 3, "consult": 2,
}  # fmt: skip
URGENCY_WEIGHTS = {"normal": 70, "urgent": 25, "critical": 5}
CHANNEL_WEIGHTS = {"phone": 80, "web": 8, "app": 8, "sms": 2, "walk-in": 2}
SATISFACTION_WEIGHTS = {"satisfied": 75, "basically-satisfied": 18, "dissatisfied": 7}
#: The share of a day's requests in each hour, 00:00 to 23:00: quiet at night, a
#: morning peak (09:00-11:00) and a higher evening one (19:00-20:00).
HOURLY = (
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 4.5, 6.0, 6.0, 5.5,
    4.0, 4.5, 5.0, 5.0, 4.5, 4.5, 5.5, 6.5, 6.0, 4.5, 3.0, 1.8,
)  # fmt: skip
HOUR = 3600.0
#: Tickets the simulated units look at at once.
PARALLEL = 8
#: Share of calls the call-taker answers on the spot (policy questions, mostly) by default:
#: a tenth, so that most of a run reaches the units and their dashboards have something to
#: show. The seeds' Changchun line answered 1,187 of 1,569 (0.76): ``--first-contact 0.76``.
ANSWERED_AT_INTAKE = 0.1


@dataclass(frozen=True)
class Plan:
    """How much, how fast, and how the units behave. Delays are in simulated seconds."""

    per_day: int = 400
    hours: float = 24.0
    start_hour: float = 0.0
    speed: float = 60.0
    burst: int | None = None  # None: 5% of the day's requests
    first_contact_share: float = ANSWERED_AT_INTAKE
    responsive_share: float = 0.8
    sign_after: float = 20 * 60
    progress_share: float = 0.7
    progress_after: float = 45 * 60
    extension_share: float = 0.1
    resolve_after: float = 3 * HOUR
    return_share: float = 0.05
    feedback_share: float = 0.6
    feedback_after: float = 30 * 60
    settle: float = 10.0
    poll_every: float = 1.0
    seed: int | None = None

    @property
    def burst_size(self) -> int:
        return round(self.per_day * 0.05) if self.burst is None else self.burst

    @property
    def real_seconds(self) -> float:
        """How long the sending lasts on the wall clock."""
        return self.hours * HOUR / self.speed


def arrivals(plan: Plan, rng: random.Random) -> list[float]:
    """When each request arrives, in simulated seconds since the start: the daily profile's
    share of ``per_day`` for the hours run (a whole day: exactly ``per_day``), sorted."""
    start, end = plan.start_hour * HOUR, (plan.start_hour + plan.hours) * HOUR
    # The profile's weight of each hour-long slice of the run (the last may be partial).
    slices: list[tuple[float, float, float]] = []
    at = start
    while at < end:
        upto = min(math.floor(at / HOUR) * HOUR + HOUR, end)
        weight = HOURLY[int(at // HOUR) % 24] * (upto - at) / HOUR
        slices.append((at, upto, weight))
        at = upto
    count = round(plan.per_day * sum(w for *_, w in slices) / sum(HOURLY))
    weights = [w for *_, w in slices]
    times = []
    for a, b, _ in rng.choices(slices, weights, k=count) if slices else []:
        times.append(rng.uniform(a, b) - start)
    return sorted(times)


def burst_window(plan: Plan) -> tuple[float, float]:
    """Simulated seconds since the start when the burst comes: an hour from three quarters in
    (18:00 on a whole day), shorter on a short run."""
    length = plan.hours * HOUR
    return length * 0.75, min(length * 0.75 + HOUR, length * 0.75 + length / 12)


class Mix:
    """Draws requests like the district's: its leaf categories, its areas, our weights."""

    def __init__(
        self, config: DistrictConfig, rng: random.Random, first_contact: float = ANSWERED_AT_INTAKE
    ) -> None:
        self._rng = rng
        self._first_contact = first_contact
        self._district = config.district
        ids = [c.id for c in config.categories]
        leaves = [c for c in ids if not any(o.startswith(c + ".") for o in ids)]
        self._categories = leaves or ids
        self._category_weights = [CATEGORY_WEIGHTS.get(top_category(c), 1) for c in leaves]
        self._areas = [a.id for a in config.areas] or [config.district]
        communities = [a.id for a in config.areas if a.level is AreaLevel.COMMUNITY]
        self._communities = communities or [max(self._areas, key=len)]
        self._serial = 0

    def burst_target(self) -> tuple[str, str]:
        """The category and the community of the evening's burst (a run of one kind of call)."""
        return (
            self._rng.choices(self._categories, self._category_weights)[0],
            self._rng.choice(self._communities),
        )

    def request(self, category: str | None = None, area: str | None = None) -> dict[str, Any]:
        """The next request, as a call-taker would post it (the burst's: ``category`` in
        ``area``)."""
        rng, self._serial = self._rng, self._serial + 1
        burst = category is not None
        category = category or rng.choices(self._categories, self._category_weights)[0]
        area = area or rng.choice(self._areas)
        # a burst is a run of one real problem: none of it is answered on the spot
        answered = not burst and rng.random() < self._first_contact
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
    """What happened, for the progress bar and the summary."""

    sent: int = 0
    accepted: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    assigned: Counter[str] = field(default_factory=Counter)
    at_intake: int = 0
    triage: int = 0
    signed: int = 0
    progress: int = 0
    extensions: int = 0
    resolved: int = 0
    returned: int = 0
    ignored: int = 0
    feedback: Counter[str] = field(default_factory=Counter)
    reopened: int = 0
    burst: int = 0
    channels: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    urgencies: Counter[str] = field(default_factory=Counter)
    hours: Counter[int] = field(default_factory=Counter)

    def line(self) -> str:
        """The counts after the progress bar."""
        return (
            f"sent {self.sent} accepted {self.accepted} signed {self.signed}"
            f" resolved {self.resolved} feedback {sum(self.feedback.values())}"
            f" silent {self.ignored} errors {self.errors + sum(self.refused.values())}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "accepted": self.accepted,
            "refused": {str(k): n for k, n in self.refused.items()},
            "errors": self.errors,
            "answered_at_intake": self.at_intake,
            "assigned": dict(self.assigned),
            "triage": self.triage,
            "signed": self.signed,
            "progress": self.progress,
            "extensions": self.extensions,
            "resolved": self.resolved,
            "returned": self.returned,
            "never_answered": self.ignored,
            "feedback": dict(self.feedback),
            "reopened": self.reopened,
            "burst": self.burst,
            "channels": dict(self.channels),
            "categories": dict(self.categories),
            "urgencies": dict(self.urgencies),
            "by_hour": {f"{h:02d}": n for h, n in sorted(self.hours.items())},
        }


@dataclass
class _Tracked:
    """A ticket the simulated units (or feedback group) still have to act on."""

    id: str
    seen: int = 0  # assignments seen so far; a new one is a new task
    unit: str | None = None
    act_at: float = 0.0
    fate: str = ""  # "", "sign", "return", "progress", "extend", "resolve", "feedback"


class Simulation:
    """Posts requests and plays the units, against the intake at ``url``."""

    def __init__(
        self,
        url: str,
        config: DistrictConfig,
        plan: Plan,
        out: TextIO = sys.stdout,
        bar: TextIO = sys.stderr,
        token: str | None = None,
    ) -> None:
        self._url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._plan = plan
        self._rng = random.Random(plan.seed)
        self._mix = Mix(config, self._rng, plan.first_contact_share)
        self.responsive = responsive_units(config, plan.responsive_share, self._rng)
        self.burst_category, self.burst_area = self._mix.burst_target()
        self.tally = Tally()
        self._tracked: dict[str, _Tracked] = {}
        self._out, self._bar = out, bar
        self._clock: Callable[[], float] = time.monotonic
        self._shown = -1.0
        self._stopping = False

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def _real(self, simulated: float) -> float:
        """Real seconds for a simulated delay."""
        return simulated / self._plan.speed

    def _delay(self, mean: float) -> float:
        """A random real delay around a simulated mean."""
        return self._real(self._rng.expovariate(1 / mean)) if mean > 0 else 0.0

    def schedule(self) -> list[tuple[float, dict[str, Any], bool]]:
        """Every request of the run: its simulated time since the start, its body, whether it
        is one of the burst."""
        plan = self._plan
        posts = [(at, self._mix.request(), False) for at in arrivals(plan, self._rng)]
        low, high = burst_window(plan)
        for _ in range(plan.burst_size):
            body = self._mix.request(self.burst_category, self.burst_area)
            posts.append((self._rng.uniform(low, high), body, True))
        return sorted(posts, key=lambda p: p[0])

    async def run(self, as_json: bool = False) -> Tally:
        """Send the day, let the units finish, print the summary."""
        plan = self._plan
        posts = self.schedule()
        if not as_json:
            self._say(
                f"simulate: {len(posts)} requests over {plan.hours:g} simulated hours from"
                f" {_clock_time(plan.start_hour * HOUR)} at {plan.speed:g}x"
                f" ({plan.real_seconds:.0f}s) against {self._url}; burst of"
                f" {plan.burst_size} {self.burst_category} in {self.burst_area};"
                f" units that answer: {', '.join(sorted(self.responsive))}"
            )
        start = self._clock()
        async with httpx.AsyncClient(
            base_url=self._url, timeout=10, headers=self._headers
        ) as client:
            units = asyncio.create_task(self._play_units(client))
            bar = asyncio.create_task(self._progress(start))
            try:
                await self._send(client, start, posts)
                settle_until = self._clock() + plan.settle
                while self._waiting() and self._clock() < settle_until:
                    await asyncio.sleep(plan.poll_every / 2)
            finally:
                self._stopping = True
                bar.cancel()
                await asyncio.gather(units, bar, return_exceptions=True)
        self._draw(start, final=True)
        self._say(json.dumps(self.summary_dict(), indent=2) if as_json else self.summary())
        return self.tally

    def _waiting(self) -> bool:
        return any(t.fate or t.unit is None for t in self._tracked.values())

    async def _send(
        self,
        client: httpx.AsyncClient,
        start: float,
        posts: list[tuple[float, dict[str, Any], bool]],
    ) -> None:
        pending = set[asyncio.Task[None]]()
        for at, body, burst in posts:
            await asyncio.sleep(max(start + self._real(at) - self._clock(), 0))
            self.tally.sent += 1
            hour = int((self._plan.start_hour * HOUR + at) // HOUR) % 24
            task = asyncio.create_task(self._post(client, body, hour, burst))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending)
        # the day lasts its hours, even when its last call came early
        await asyncio.sleep(max(start + self._plan.real_seconds - self._clock(), 0))

    async def _post(
        self, client: httpx.AsyncClient, body: dict[str, Any], hour: int, burst: bool
    ) -> None:
        try:
            response = await client.post("/api/v1/requests", json=body)
        except httpx.HTTPError:
            self.tally.errors += 1
            return
        if response.status_code != 201:
            self.tally.refused[response.status_code] += 1
            return
        t = self.tally
        t.accepted += 1
        t.burst += burst
        t.channels[body["channel"]] += 1
        t.categories[top_category(body["category"])] += 1
        t.urgencies[body["urgency"]] += 1
        t.hours[hour] += 1
        if body.get("resolved_at_intake"):
            t.at_intake += 1  # answered on the spot: no unit will see it
            return
        ticket_id = response.json()["id"]
        self._tracked[ticket_id] = _Tracked(ticket_id)

    async def _progress(self, start: float) -> None:
        while True:
            await asyncio.sleep(0.5)
            self._draw(start)

    def _draw(self, start: float, final: bool = False) -> None:
        """The progress bar: redrawn in place on a terminal, a line each tenth elsewhere."""
        done = 1.0 if final else min((self._clock() - start) / self._plan.real_seconds, 1.0)
        tty = self._bar.isatty()
        if not tty and not final and done < self._shown + 0.1:
            return
        self._shown = done
        filled = round(done * 30)
        simulated = self._plan.start_hour * HOUR + done * self._plan.hours * HOUR
        text = (
            f"[{'#' * filled}{'.' * (30 - filled)}] {done * 100:3.0f}%"
            f"  {_clock_time(simulated)}  {self.tally.line()}"
        )
        end = "\n" if final or not tty else ""
        print(("\r" if tty else "") + text, end=end, file=self._bar, flush=True)

    async def _play_units(self, client: httpx.AsyncClient) -> None:
        """Every poll, look at each ticket (a few at a time) until told to stop.

        Stopping waits for the pass under way: a move the system made is never left
        uncounted by a request cancelled before its answer came back.
        """
        gate = asyncio.Semaphore(PARALLEL)

        async def step(tracked: _Tracked) -> None:
            async with gate:
                try:
                    await self._step(client, tracked)
                except httpx.HTTPError:
                    self.tally.errors += 1

        while not self._stopping:
            await asyncio.sleep(self._plan.poll_every)
            await asyncio.gather(*(step(t) for t in list(self._tracked.values())))

    async def _step(self, client: httpx.AsyncClient, tracked: _Tracked) -> None:
        """Look at one ticket; act for its unit (or the feedback group) when the time has come."""
        if tracked.fate and self._clock() < tracked.act_at:
            return
        response = await client.get(f"/api/v1/requests/{tracked.id}")
        if response.status_code != 200:
            return
        ticket = response.json()
        state, unit = ticket["state"], ticket.get("unit_id")
        if state in ("transferred", "transfer-pending"):
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
        if tracked.fate == "feedback" and state == "resolved":
            await self._feedback(client, tracked)
        elif tracked.fate and unit == tracked.unit:
            await self._act(client, tracked, state)

    def _new_task(self, tracked: _Tracked, unit: str, assignments: int) -> None:
        tracked.seen, tracked.unit = assignments, unit
        self.tally.assigned[unit] += 1
        if unit not in self.responsive:
            self.tally.ignored += 1
            self._tracked.pop(tracked.id, None)
            return
        returns = tracked.seen == 1 and self._rng.random() < self._plan.return_share
        self._next(tracked, "return" if returns else "sign", self._plan.sign_after)

    def _next(self, tracked: _Tracked, fate: str, mean: float) -> None:
        tracked.fate, tracked.act_at = fate, self._clock() + self._delay(mean)

    async def _act(self, client: httpx.AsyncClient, tracked: _Tracked, state: str) -> None:
        plan, rng, path = self._plan, self._rng, f"/api/v1/requests/{tracked.id}"
        me = {"unit_id": tracked.unit}
        if tracked.fate == "return" and state == "assigned":
            body = {**me, "reason": "not ours (simulated)"}
            if (await client.post(f"{path}/return", json=body)).status_code == 200:
                self.tally.returned += 1
            tracked.fate = ""  # the router owes it a new unit; watch for it
        elif tracked.fate == "sign" and state == "assigned":
            if (await client.post(f"{path}/ack", json=me)).status_code == 200:
                self.tally.signed += 1
            reports = rng.random() < plan.progress_share
            self._next(
                tracked,
                "progress" if reports else "resolve",
                plan.progress_after if reports else plan.resolve_after,
            )
        elif tracked.fate == "progress" and state == "signed-for":
            body = {**me, "note": "called the citizen, on it (simulated)"}
            if (await client.post(f"{path}/progress", json=body)).status_code == 200:
                self.tally.progress += 1
            if rng.random() < plan.extension_share:
                self._next(tracked, "extend", plan.progress_after / 4)
            else:
                self._next(tracked, "resolve", plan.resolve_after)
        elif tracked.fate == "extend" and state == "signed-for":
            await self._extend(client, path, me)
            self._next(tracked, "resolve", plan.resolve_after)
        elif tracked.fate == "resolve" and state == "signed-for":
            body = {**me, "result": "Done (simulated)"}
            if (await client.post(f"{path}/resolve", json=body)).status_code == 200:
                self.tally.resolved += 1
            if rng.random() < plan.feedback_share:
                self._next(tracked, "feedback", plan.feedback_after)
            else:
                self._tracked.pop(tracked.id, None)

    async def _extend(self, client: httpx.AsyncClient, path: str, me: dict[str, Any]) -> None:
        """The unit asks for a day more; the supervision group approves it."""
        body = {**me, "reason": "needs another department's help (simulated)", "extra": "1d"}
        asked = await client.post(f"{path}/extensions", json=body)
        if asked.status_code != 201:
            return
        decided = await client.post(
            f"{path}/extensions/{asked.json()['id']}/approve", json={"by": "simulated supervisor"}
        )
        if decided.status_code == 200:
            self.tally.extensions += 1

    async def _feedback(self, client: httpx.AsyncClient, tracked: _Tracked) -> None:
        """The feedback group calls the citizen back; a dissatisfied one may reopen the ticket."""
        result = _weighted(self._rng, SATISFACTION_WEIGHTS)
        body = {"result": result, "by": "simulated feedback group"}
        answer = await client.post(f"/api/v1/requests/{tracked.id}/feedback", json=body)
        if answer.status_code != 201:
            self._tracked.pop(tracked.id, None)
            return
        self.tally.feedback[result] += 1
        if answer.json().get("reopened"):
            self.tally.reopened += 1
            tracked.fate = ""  # routed again: watch for its next unit
        else:
            self._tracked.pop(tracked.id, None)

    def summary_dict(self) -> dict[str, Any]:
        """The summary for machines: the tally, the silent units, the burst's target."""
        return {
            **self.tally.as_dict(),
            "silent_units": sorted(set(self.tally.assigned) - self.responsive),
            "burst_category": self.burst_category,
            "burst_area": self.burst_area,
        }

    def summary(self) -> str:
        """The end-of-run report: totals, then the mix and each unit's tasks."""
        t = self.tally
        lines = [
            "summary:",
            f"  requests   sent {t.sent}, accepted {t.accepted}, refused "
            f"{dict(t.refused) or 0}, errors {t.errors}",
            f"  intake     answered on the spot {t.at_intake}",
            f"  tasks      assigned {sum(t.assigned.values())}, to triage {t.triage},"
            f" signed for {t.signed}, progress reports {t.progress}, extensions"
            f" {t.extensions}, resolved {t.resolved}, returned {t.returned},"
            f" never answered {t.ignored}",
            f"  feedback   {_counts(t.feedback)}; reopened {t.reopened}",
            f"  burst      {t.burst} {self.burst_category} in {self.burst_area}",
            "  by hour    "
            + (" ".join(f"{h:02d}:{n}" for h, n in sorted(t.hours.items())) or "none"),
            "  channels   " + _counts(t.channels),
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


def _clock_time(seconds: float) -> str:
    minutes = int(seconds // 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def simulate(
    url: str, config: DistrictConfig, plan: Plan, token: str | None = None, as_json: bool = False
) -> int:
    """Run a simulation; exit 1 if nothing was accepted (a wrong URL or district)."""
    tally = asyncio.run(Simulation(url, config, plan, token=token).run(as_json))
    if not tally.accepted:
        print(
            f"simulate: nothing was accepted; is the intake running at {url}, and is the"
            f" district file its own (district {config.district!r})?",
            file=sys.stderr,
        )
        return 1
    return 0
