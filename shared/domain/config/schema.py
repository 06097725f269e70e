"""The published JSON Schema of a district file, with defaults in the file's own words."""

from __future__ import annotations

from datetime import date, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from hotline.shared.domain.config.district import DistrictConfig
from hotline.shared.domain.config.hours import TimeWindow
from hotline.shared.domain.durations import format_duration


def _as_written(value: Any) -> Any:
    """A default value in the form a district file writes it (``2h``, ``08:30``, ``22:00-06:00``).

    The loader reads these forms; pydantic would show ``PT2H`` and ``08:30:00``,
    which a person copying a default from the schema into a file would have refused.
    """
    if isinstance(value, TimeWindow):
        return str(value)
    if isinstance(value, BaseModel):
        return {
            field.alias or name: _as_written(getattr(value, name))
            for name, field in type(value).model_fields.items()
        }
    if isinstance(value, dict):
        return {_as_written(k): _as_written(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_as_written(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, time):
        plain = not (value.second or value.microsecond or value.tzinfo)
        return value.strftime("%H:%M") if plain else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


class _DistrictSchema(GenerateJsonSchema):
    """Pydantic's schema, but with each default shown in the district file's own form."""

    def encode_default(self, dft: Any) -> Any:
        """Encode a field's default as the file would write it."""
        return super().encode_default(_as_written(dft))


def json_schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) of a district file.

    It must take every file the loader takes, short forms included, so that an
    editor or a CI check that uses it flags only real mistakes. It is looser
    than the loader where the loader checks across the file (unknown names,
    ladders that climb): those are what ``hotline config check`` is for.
    """
    schema = DistrictConfig.model_json_schema(by_alias=True, schema_generator=_DistrictSchema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Hotline district file"
    return schema
