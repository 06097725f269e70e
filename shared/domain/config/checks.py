"""What the checks across a district file share: where a problem is, and the names it defines.

Each section checks its own references to units, areas and categories against
``Names``; the district model runs the checks in turn and reports every problem
at once, each at its place in the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Where in the file a problem is: keys and list indexes, as pydantic reports them.
Loc = tuple[str | int, ...]

#: A problem found across the file: where it is and what is wrong.
Problem = tuple[Loc, str]


@dataclass(frozen=True)
class Names:
    """The ids a district file defines, that the rest of the file may point at."""

    units: frozenset[str]
    areas: frozenset[str]
    categories: frozenset[str]

    def unknown_areas(self, loc: Loc, where: str, codes: Iterable[str]) -> list[Problem]:
        """Each code that no area of the file has, even when the file lists no areas at all.

        A file without areas is not a licence to name any code: a rule matching an
        unlisted area could never see a request located there, so it is a typo.
        """
        return [
            (loc, f"{where} names unknown area {code!r}")
            for code in codes
            if code not in self.areas
        ]

    def unknown_categories(self, loc: Loc, where: str, ids: Iterable[str]) -> list[Problem]:
        """Each category id that the file does not list."""
        return [
            (loc, f"{where} names unknown category {category!r}")
            for category in ids
            if category not in self.categories
        ]


def repeated_ids(section: str, ids: Iterable[str]) -> list[Problem]:
    """Each id of the section's list that an earlier item already has, at the later one."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, item_id in enumerate(ids):
        if item_id in seen:
            problems.append(((section, index, "id"), f"id {item_id!r} appears twice"))
        seen.add(item_id)
    return problems
