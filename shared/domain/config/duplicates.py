"""The district file's ``duplicates``: when a new request joins an open ticket instead."""

from __future__ import annotations

from datetime import timedelta

from hotline.shared.domain.config.fields import Duration, FileModel


class DuplicatePolicy(FileModel):
    """When a new request is linked to an open ticket instead of being routed again.

    Within ``window`` of the open ticket, a request with the same category in the
    same community is a duplicate when the same phone calls, and counts as "also
    reported by" when someone else does. ``0s`` (the default) turns the check off:
    a district turns it on knowingly, since a linked request is not routed.
    """

    window: Duration = timedelta(0)
