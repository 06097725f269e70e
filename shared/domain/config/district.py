"""The whole district file: its sections assembled, and the checks that span them.

One file per district says everything that differs between districts, so the
code stays the same everywhere. The model is validated once at start (and at
every reload); a broken file is refused with the place and the reason rather
than half-applied.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from hotline.shared.domain.config.areas import Area, area_problems
from hotline.shared.domain.config.categories import Category
from hotline.shared.domain.config.checks import Names, Problem, repeated_ids
from hotline.shared.domain.config.duplicates import DuplicatePolicy
from hotline.shared.domain.config.fields import DISTRICT_ID, FileModel
from hotline.shared.domain.config.hotspots import Hotspot, hotspot_problems
from hotline.shared.domain.config.hours import Hours
from hotline.shared.domain.config.notifications import NotificationPolicy
from hotline.shared.domain.config.peers import Peer
from hotline.shared.domain.config.routes import Route, route_problems
from hotline.shared.domain.config.sla import SlaPolicy, sla_problems
from hotline.shared.domain.config.units import CallerDetails, Unit, unit_problems


class DistrictConfig(FileModel):
    """A whole district file."""

    district: str
    name: str
    timezone: str = "Asia/Shanghai"
    business_hours: Hours = Hours()
    areas: tuple[Area, ...] = ()
    categories: tuple[Category, ...]
    units: tuple[Unit, ...]
    routes: tuple[Route, ...] = ()
    peers: tuple[Peer, ...] = ()
    sla: SlaPolicy = SlaPolicy()
    notifications: NotificationPolicy = NotificationPolicy()
    duplicates: DuplicatePolicy = DuplicatePolicy()
    hotspots: tuple[Hotspot, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> DistrictConfig:
        """Refuse a file that names a unit, area, category or zone that does not exist.

        Every such mistake is reported at once, each at its own place in the
        file, so the person fixing it does not discover them one load at a time.
        """
        problems = self._reference_problems()
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("reference", message), loc=loc, input=None
                    )
                    for loc, message in problems
                ],
            )
        return self

    def _reference_problems(self) -> list[Problem]:
        """Each name in the file that points at nothing, with where it is.

        Repeated ids come first, for every list, then each section's references
        in file order: the order the problems have always been reported in.
        """
        names = Names(
            units=frozenset(self.unit_ids),
            areas=frozenset(a.id for a in self.areas),
            categories=frozenset(c.id for c in self.categories),
        )
        return [
            *self._identity_problems(),
            *repeated_ids("units", self.unit_ids),
            *repeated_ids("areas", (a.id for a in self.areas)),
            *repeated_ids("categories", (c.id for c in self.categories)),
            *area_problems(self.areas, names),
            *unit_problems(self.units, names),
            *route_problems(self.routes, names),
            *sla_problems(self.sla, names),
            *hotspot_problems(self.hotspots, names),
        ]

    def _identity_problems(self) -> list[Problem]:
        """What is wrong with the district's own id and time zone."""
        problems: list[Problem] = []
        if not DISTRICT_ID.match(self.district):
            problems.append(
                (
                    ("district",),
                    f"district id {self.district!r} must be lower-case letters, digits and"
                    " dashes (it names queues, topics and metrics)",
                )
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append((("timezone",), f"unknown timezone {self.timezone!r}"))
        return problems

    @property
    def unit_ids(self) -> tuple[str, ...]:
        """Every unit's id, in file order."""
        return tuple(u.id for u in self.units)

    @property
    def gateway_channels(self) -> tuple[str, ...]:
        """The AMQP gateway channels the district's notifications use, citizen's first."""
        names = [self.notifications.citizen_channel]
        names += [c.channel for u in self.units for c in u.contacts if c.gateway]
        return tuple(dict.fromkeys(names))

    def unit(self, unit_id: str) -> Unit | None:
        """The unit with this id, if the district has one."""
        return next((u for u in self.units if u.id == unit_id), None)

    def sees_caller(self, unit_id: str, handling: bool) -> bool:
        """Say whether a unit sees callers' personal data, on a task (or on a copy)."""
        unit = self.unit(unit_id)
        policy = unit.caller_details if unit else CallerDetails.NEVER
        return policy is CallerDetails.ALWAYS or (
            policy is CallerDetails.WHEN_HANDLING and handling
        )

    def category_known(self, category: str) -> bool:
        """Say whether ``category`` is one the district lists."""
        return any(c.id == category for c in self.categories)

    @property
    def zone(self) -> ZoneInfo:
        """The district's time zone: business hours and time windows are local times."""
        return ZoneInfo(self.timezone)
