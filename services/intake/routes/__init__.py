"""The intake's HTTP routes, one module a group: each holds a module-level ``routes``
(an ``APIRouter``) whose route functions receive the intake's context as a dependency."""
