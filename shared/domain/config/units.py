"""The district file's ``units``: who handles tasks, where, what, when, and how reached."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from hotline.shared.domain.config.checks import Names, Problem
from hotline.shared.domain.config.contacts import Contact, ContactRole
from hotline.shared.domain.config.escalation import Recipient
from hotline.shared.domain.config.fields import FileModel
from hotline.shared.domain.config.hours import Hours


class UnitKind(StrEnum):
    """What sort of body a unit is; reports break transfers down by it."""

    STREET_OFFICE = "street-office"
    TOWN = "town"
    DEPARTMENT = "department"
    SPECIAL_TEAM = "special-team"
    GRASS_ROOTS = "grass-roots"


class CallerDetails(StrEnum):
    """When a unit sees a caller's name and phone (personal data) rather than a masked form."""

    WHEN_HANDLING = "when-handling"  # on the tasks it must act on, not on observer copies
    ALWAYS = "always"
    NEVER = "never"


#: The contacts within the task's own unit that its recipients reach (see ``Unit.contacts_for``).
_CONTACT_ROLES = {Recipient.UNIT: ContactRole.DESK, Recipient.UNIT_LEADER: ContactRole.LEADER}


class Unit(FileModel):
    """A handling unit: street office, town, department, special team, grass-roots body.

    ``areas`` and ``categories`` say what it serves (empty: any); ``hours``
    empty means around the clock; ``capacity`` caps the open tasks a pool
    gives it. ``caller_details`` says when its messages and API answers carry
    the caller's name and phone unmasked.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    kind: UnitKind = UnitKind.DEPARTMENT
    areas: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    hours: Hours | None = None
    contacts: tuple[Contact, ...] = ()
    capacity: int | None = Field(default=None, ge=1)
    supervisor: str | None = None
    caller_details: CallerDetails = CallerDetails.WHEN_HANDLING

    def contacts_for(self, recipient: Recipient) -> tuple[Contact, ...]:
        """The contacts an escalation step that tells ``recipient`` reaches in this unit.

        ``unit`` reaches the desk contacts and ``unit-leader`` the leader contacts; a
        unit that lists none of the kind asked for is reached at all its contacts, so
        that a step is never lost to a file that does not mark roles. The other
        recipients stand for a whole unit (a supervisor, the supervision group, the
        leadership): every contact of it.
        """
        wanted = _CONTACT_ROLES.get(recipient)
        if wanted is None:
            return self.contacts
        picked = tuple(c for c in self.contacts if c.role is wanted)
        return picked or self.contacts


def unit_problems(units: tuple[Unit, ...], names: Names) -> list[Problem]:
    """Each supervisor, area and category a unit names that the file does not have."""
    problems: list[Problem] = []
    for index, unit in enumerate(units):
        where = f"unit {unit.id!r}"
        if unit.supervisor is not None and unit.supervisor not in names.units:
            problems.append(
                (
                    ("units", index, "supervisor"),
                    f"{where} has unknown supervisor {unit.supervisor!r}",
                )
            )
        problems += names.unknown_areas(("units", index, "areas"), where, unit.areas)
        problems += names.unknown_categories(("units", index, "categories"), where, unit.categories)
    return problems
