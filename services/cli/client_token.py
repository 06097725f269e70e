"""The token a command-line client of the API sends, found where an operator keeps it."""

from __future__ import annotations

import os
from pathlib import Path


def client_token(given: str | None, data_dir: str = "var") -> str | None:
    """``--token``, else ``HOTLINE_TOKEN``, else the admin token ``hotline up`` saved."""
    if given:
        return given
    if os.environ.get("HOTLINE_TOKEN"):
        return os.environ["HOTLINE_TOKEN"]
    saved = Path(data_dir) / "admin.token"
    return saved.read_text(encoding="utf-8").strip() if saved.exists() else None


#: What to tell someone who gave no token.
NO_TOKEN = "give --token, HOTLINE_TOKEN, or run where var/admin.token is"
