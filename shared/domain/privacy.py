"""Callers' names and phone numbers are personal data: how they are masked where they go.

Logs, metrics and the queues of units not allowed to see them get the masked
form; the ledger and the unit that must call the citizen back get the real one.
"""

from __future__ import annotations

import logging
import re

#: Anything that looks like a phone number: 7 or more digits, perhaps spaced or dashed,
#: standing alone (not inside an id such as a UUID).
_PHONE = re.compile(r"(?<![\w-])\+?\d[\d \-()]{5,}\d(?![\w-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def mask_phone(phone: str) -> str:
    """Only the last four digits stay: enough to tell two callers apart on a call-back."""
    digits = [c for c in phone if c.isdigit()]
    return "*" * max(len(digits) - 4, 3) + "".join(digits[-4:])


def mask_name(name: str) -> str:
    """Only the first character stays."""
    name = name.strip()
    return (name[:1] + "**") if name else "**"


def mask_caller(caller: dict[str, str]) -> dict[str, str]:
    """A message's ``caller`` block, masked."""
    return {
        "name": mask_name(caller.get("name") or ""),
        "phone": mask_phone(caller.get("phone") or ""),
    }


def mask_text(text: str) -> str:
    """Every phone-number-like run in free text, masked (for log lines)."""

    def mask(match: re.Match[str]) -> str:
        found = match.group(0)
        digits = sum(c.isdigit() for c in found)
        return found if digits < 7 or _DATE.fullmatch(found) else mask_phone(found)

    return _PHONE.sub(mask, text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks phone numbers in every record it passes.

    Names cannot be told from other words in free text, so the code logs no
    caller fields at all and the ledger's engine hides SQL parameters; this
    filter is the second line, for a number that slips into an error message.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
