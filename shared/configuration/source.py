"""The district file in force, reloaded when it changes or on SIGHUP.

A dispatcher fixes a rule and saves the file; the running services take it
without a restart. A broken file is refused, logged with file, line and
reason, and the config in force stays: a typo must not stop the hotline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from pathlib import Path

from hotline.shared.configuration.file import EXAMPLE, ConfigError, load_config
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.routing import Rules
from hotline.shared.observability import metrics
from hotline.shared.runtime.waiting import wait_for_event

log = logging.getLogger(__name__)

#: How often the file's modification time is checked.
POLL_SECONDS = 1.0


class ConfigSource:
    """Holds the config in force and its compiled router; swaps both atomically on reload."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else EXAMPLE
        self._rules = Rules(load_config(self.path))
        self._stamp = self._mtime()
        self._listeners: list[Callable[[DistrictConfig], None]] = []

    @property
    def config(self) -> DistrictConfig:
        """The district config in force."""
        return self._rules.config

    @property
    def rules(self) -> Rules:
        """The routing rules in force, compiled."""
        return self._rules

    def on_reload(self, listener: Callable[[DistrictConfig], None]) -> None:
        """Call ``listener`` with each new config that is taken."""
        self._listeners.append(listener)

    def reload(self) -> bool:
        """Read the file again; take it if valid, else keep the old one. Say whether taken."""
        self._stamp = self._mtime()
        district = self.config.district
        try:
            config = load_config(self.path)
            if config.district != district:
                raise ConfigError(
                    f"{self.path}: district changed from {district!r} to {config.district!r};"
                    " that needs a restart"
                )
            rules = Rules(config)
        except ConfigError as exc:
            metrics.CONFIG_RELOADS.labels(district, "refused").inc()
            log.error("config reload refused, the old config stays in force:\n%s", exc)
            return False
        self._rules = rules
        metrics.CONFIG_RELOADS.labels(district, "taken").inc()
        log.info("config reloaded from %s", self.path)
        for listener in self._listeners:
            listener(config)
        return True

    async def watch(self, stop: asyncio.Event) -> None:
        """Reload when the file's modification time changes or the process gets SIGHUP."""
        hangup = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, hangup.set)
        while not stop.is_set():
            await wait_for_event(hangup, POLL_SECONDS)
            if hangup.is_set() or self._mtime() != self._stamp:
                hangup.clear()
                await asyncio.to_thread(self.reload)

    def _mtime(self) -> float | None:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None
