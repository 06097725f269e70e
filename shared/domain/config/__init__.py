"""The district configuration: areas, categories, units, routes, peers, SLA policy.

One module per section of the district file holds its model and the check of
what it names elsewhere in the file; ``district`` assembles them into the
whole file's model. The names are gathered here, so that the rest of the code
imports them from ``hotline.shared.domain.config`` without knowing the layout.
"""

from hotline.shared.domain.config.areas import Area, AreaLevel
from hotline.shared.domain.config.categories import Category
from hotline.shared.domain.config.checks import Loc
from hotline.shared.domain.config.contacts import EMAIL, WEBHOOK, Contact, ContactRole
from hotline.shared.domain.config.district import DistrictConfig
from hotline.shared.domain.config.duplicates import DuplicatePolicy
from hotline.shared.domain.config.escalation import Fraction, Ladder, LadderStep, Recipient
from hotline.shared.domain.config.fields import Duration, OneOrMany, OneOrManyOf
from hotline.shared.domain.config.hotspots import HOTSPOT_HOPS, Hotspot
from hotline.shared.domain.config.hours import (
    WORKDAYS,
    ClockTime,
    Hours,
    TimeWindow,
    Weekday,
    WorkingTime,
)
from hotline.shared.domain.config.notifications import NotificationPolicy
from hotline.shared.domain.config.peers import PEER_TOKEN_ENV, Peer
from hotline.shared.domain.config.routes import AREA_OWNER, HoursCondition, Match, Route
from hotline.shared.domain.config.schema import json_schema
from hotline.shared.domain.config.sla import Clock, Counting, Limits, SlaOverride, SlaPolicy
from hotline.shared.domain.config.units import CallerDetails, Unit, UnitKind

__all__ = [
    "AREA_OWNER",
    "EMAIL",
    "HOTSPOT_HOPS",
    "PEER_TOKEN_ENV",
    "WEBHOOK",
    "WORKDAYS",
    "Area",
    "AreaLevel",
    "CallerDetails",
    "Category",
    "Clock",
    "ClockTime",
    "Contact",
    "ContactRole",
    "Counting",
    "DistrictConfig",
    "DuplicatePolicy",
    "Duration",
    "Fraction",
    "Hotspot",
    "Hours",
    "HoursCondition",
    "Ladder",
    "LadderStep",
    "Limits",
    "Loc",
    "Match",
    "NotificationPolicy",
    "OneOrMany",
    "OneOrManyOf",
    "Peer",
    "Recipient",
    "Route",
    "SlaOverride",
    "SlaPolicy",
    "TimeWindow",
    "Unit",
    "UnitKind",
    "Weekday",
    "WorkingTime",
    "json_schema",
]
