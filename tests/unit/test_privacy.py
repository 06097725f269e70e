"""Masking callers' personal data for logs and for units not allowed to see it."""

from __future__ import annotations

import logging

from hotline.shared.configuration.file import load_config
from hotline.shared.domain.privacy import MaskingFilter, mask_caller, mask_phone, mask_text


def test_masks_keep_only_what_tells_callers_apart() -> None:
    assert mask_phone("+86 138 0000 1234") == "*********1234"
    assert mask_caller({"name": "Xiao Lu", "phone": "13800001234"}) == {
        "name": "X**",
        "phone": "*******1234",
    }
    assert mask_text("refused +86 138 0000 1234 at line 3") == "refused *********1234 at line 3"
    for kept in ("ticket 42 of 2026-11-23", "id 3c994d5f-8cae-4590-964a-0d72252b7c9b"):
        assert mask_text(kept) == kept


def test_log_records_lose_phone_numbers() -> None:
    record = logging.LogRecord(
        "x", logging.ERROR, "f", 1, "caller %s hung up", ("13800001234",), None
    )
    MaskingFilter().filter(record)
    assert record.getMessage() == "caller *******1234 hung up"


def test_units_see_callers_when_handling_unless_their_file_says_otherwise() -> None:
    config = load_config(None)
    assert config.sees_caller("friendship-street", handling=True)
    assert not config.sees_caller("friendship-street", handling=False)  # an observer copy
    never = config.model_copy(
        update={
            "units": tuple(
                u.model_copy(update={"caller_details": "never"}) if u.id == "health-bureau" else u
                for u in config.units
            )
        }
    )
    assert not never.sees_caller("health-bureau", handling=True)
