"""Who may call which of the intake's routes: the callers as the routes receive them.

Module level, as the routes' annotations are strings resolved here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from hotline.intake.auth import require
from hotline.shared.domain.access import STAFF, Principal, Role

#: Who may record a request.
TakesCalls = Annotated[Principal, Depends(require(Role.CALL_TAKER))]
#: Who may read any ticket: every staff role (a unit reads only its own tasks).
Who = Annotated[Principal, Depends(require(*STAFF, Role.UNIT))]
#: Who acts on a task: the unit it is assigned to (admin for it, naming the unit).
Acts = Annotated[Principal, Depends(require(Role.UNIT))]
#: Who assigns from manual triage.
Dispatches = Annotated[Principal, Depends(require(Role.DISPATCHER))]
#: Who decides on an extension: a supervisor (or admin).
Supervises = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
#: Who records the citizen's satisfaction: the feedback group (or admin).
RecordsFeedback = Annotated[Principal, Depends(require(Role.FEEDBACK))]
#: Who reads a ticket's feedback and notifications, and Open311's requests: staff, not units.
Staff = Annotated[Principal, Depends(require(*STAFF))]
