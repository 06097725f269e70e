"""The district file's ``categories``: the kinds of request, nested by dots."""

from __future__ import annotations

from pydantic import Field

from hotline.shared.domain.config.fields import FileModel


class Category(FileModel):
    """A kind of request; ids nest by dots (``medical.dialysis`` is under ``medical``)."""

    id: str = Field(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")
    name: str
