"""What every section of a district file is built from: the base model and the field types.

A file writes durations as ``2h`` and lists of one as the item alone; each
section reads them the same way, and the published schema says so once.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from hotline.shared.domain.durations import DURATION_PATTERN, parse_duration

#: A district's id, and a peer's: it names queues, topics and metrics.
DISTRICT_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class FileModel(BaseModel):
    """A part of a district file: an unknown key is a typo, and a loaded file never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


#: A duration as a file writes it (``90s``, ``2h``, ``1h30m``) or a number of seconds. The
#: schema says so itself: pydantic's own (ISO 8601, ``PT2H``) is not what the loader reads.
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "number", "minimum": 0},
            ],
            "description": "a duration: 90s, 10m, 2h, 1d, 1h30m, or a number of seconds",
        }
    ),
]


def _one_or_many(value: Any) -> Any:
    """Let a file say ``category: medical`` as well as ``category: [medical]``."""
    return [value] if isinstance(value, str) else value


class _OneOrManySchema:
    """Schema of a list that a file may also write as its single item.

    The loader takes ``category: medical`` for ``category: [medical]``; the
    published schema must take it too, or an editor flags every short form.
    """

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        many = handler(core_schema)
        return {"anyOf": [many["items"], many]}


_T = TypeVar("_T")

#: A list of ``_T``, or one ``_T`` standing for the list of it.
OneOrManyOf = Annotated[tuple[_T, ...], BeforeValidator(_one_or_many), _OneOrManySchema()]
OneOrMany = OneOrManyOf[str]
