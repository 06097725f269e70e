"""The district file's ``peers``: neighbouring districts that requests located there go to."""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from hotline.shared.domain.config.fields import DISTRICT_ID, FileModel

#: The environment variables a peer's ``token_env`` may name. Only these: a district file
#: must not be able to send another setting (a database password) to a peer's URL.
PEER_TOKEN_ENV = r"^HOTLINE_PEER_TOKEN_[A-Z0-9_]+$"


class Peer(FileModel):
    """A neighbouring district: requests located in its areas are transferred to its intake.

    The peer's intake takes them only with a ``call-taker`` token that the peer
    district made for us. It is looked up when a transfer is sent, from one of:
    ``token_env`` (an environment variable ``HOTLINE_PEER_TOKEN_...``, from a
    Secret or ``.env``), ``token_file`` (a file holding the token, relative to
    the district file; a mounted Secret is read afresh each time, so rotating
    it needs no restart) or ``token`` (the token itself, in the file: only for
    a file that is kept out of the repository and of ConfigMaps). At most one.
    """

    # `hotline config schema` says "at most one token source" too, for editors.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "not": {
                "anyOf": [
                    {"required": list(pair)}
                    for pair in itertools.combinations(("token", "token_env", "token_file"), 2)
                ]
            }
        },
    )

    district: str = Field(pattern=DISTRICT_ID.pattern)
    url: str = Field(pattern=r"^https?://")
    areas: tuple[str, ...] = ()
    geometry: dict[str, Any] | str | None = None
    token: str | None = None
    token_env: str | None = Field(default=None, pattern=PEER_TOKEN_ENV)
    token_file: str | None = None

    @model_validator(mode="after")
    def _one_token_source(self) -> Peer:
        given = [name for name in ("token", "token_env", "token_file") if getattr(self, name)]
        if len(given) > 1:
            raise ValueError(
                f"peer {self.district!r} names {' and '.join(given)}: give one source of its token"
            )
        return self

    @property
    def token_source(self) -> str | None:
        """Where the token comes from, as a person would say it (``None``: nowhere)."""
        if self.token_env:
            return self.token_env
        if self.token_file:
            return self.token_file
        return "the district file" if self.token else None
