"""The district file's ``hotspots``: the bursts of requests that warn the supervision group."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from hotline.shared.domain.config.areas import AreaLevel
from hotline.shared.domain.config.checks import Loc, Names, Problem
from hotline.shared.domain.config.fields import Duration, FileModel

#: How many windows of a hot-spot rule overlap at any moment when it names no ``step``.
HOTSPOT_HOPS = 6


class Hotspot(FileModel):
    """An early warning: ``threshold`` requests of ``category`` (or below it) from one area
    of ``level`` within one ``window`` raise a ``hotspot`` for the supervision group.

    Windows slide: one of ``window`` length starts every ``step`` (whole seconds that
    divide the window; by default about a sixth of it, 10 minutes for ``1h``), so a
    burst that straddles a clock hour is counted whole, not split in two halves that
    each stay under the threshold. How often a district hears of one area is said in
    ``hotline.shared.domain.hotspots``.
    """

    name: str | None = None
    category: str
    level: AreaLevel = AreaLevel.COMMUNITY
    threshold: int = Field(ge=2, description="requests in one window that make a hot spot")
    window: Duration = timedelta(hours=1)
    step: Duration | None = Field(
        default=None,
        description="how often a window starts: whole seconds dividing the window"
        " (default: the largest such part of at most a sixth of it)",
    )

    @property
    def label(self) -> str:
        """The rule's name, or what it watches."""
        return self.name or f"{self.category} per {self.level.value}"

    @property
    def hop(self) -> timedelta:
        """How far apart the rule's windows start: ``step``, or the largest whole number of
        seconds that divides the window and is at most a sixth of it (1 s at least)."""
        if self.step is not None:
            return self.step
        seconds = int(self.window.total_seconds())
        most = max(1, seconds // HOTSPOT_HOPS)
        return timedelta(seconds=next(d for d in range(most, 0, -1) if seconds % d == 0))

    def window_problem(self) -> tuple[str, str] | None:
        """The field and what is wrong with the window or its step, if anything: windows
        must tile time in whole seconds, as the stream table counts them."""
        window, step, second = self.window, self.step, timedelta(seconds=1)
        if window <= timedelta(0):
            return "window", "a hotspot window must be > 0s"
        if window % second:
            return "window", f"a hotspot window must be whole seconds, not {window}"
        if step is None:
            return None
        if step <= timedelta(0):
            return "step", "a hotspot step must be > 0s"
        if step > window or step % second or window % step:
            return "step", f"a hotspot step must divide its window ({window}) into whole seconds"
        return None


def hotspot_problems(hotspots: tuple[Hotspot, ...], names: Names) -> list[Problem]:
    """Each rule's unknown category, and each window or step that does not tile time."""
    problems: list[Problem] = []
    for index, hotspot in enumerate(hotspots):
        spot: Loc = ("hotspots", index, "category")
        problems += names.unknown_categories(spot, "hotspot", (hotspot.category,))
        problem = hotspot.window_problem()
        if problem is not None:
            field, message = problem
            problems.append((("hotspots", index, field), message))
    return problems
