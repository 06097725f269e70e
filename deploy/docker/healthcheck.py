"""The image's health check: GET /healthz of the hotline service in this container.

With no argument it reads the port from the hotline process's command line
(``--port N``, else the service's default), so one image serves intake, router
and notifier. Exits 0 when /healthz answers 200 ("ok" or "degraded"), else 1.
Usage: python healthcheck.py [PORT]
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

DEFAULT_PORTS = {"intake": 8080, "router": 8081, "notifier": 8082, "up": 8080}


def port_of(argv: list[str]) -> int | None:
    """The HTTP port of a ``hotline <service> ...`` command line, or None if it is not one."""
    names = [Path(arg).name for arg in argv]
    if "hotline" not in names:
        return None
    args = argv[names.index("hotline") + 1 :]
    service = next((a for a in args if a in DEFAULT_PORTS), None)
    if service is None:
        return None
    for i, arg in enumerate(args):
        if arg == "--port" and i + 1 < len(args):
            return int(args[i + 1])
        if arg.startswith("--port="):
            return int(arg.split("=", 1)[1])
    return DEFAULT_PORTS[service]


def find_port() -> int:
    """The port of the hotline service running in this container (8080 if none is found)."""
    for cmdline in sorted(Path("/proc").glob("[0-9]*/cmdline")):
        try:
            argv = cmdline.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        port = port_of(argv)
        if port is not None:
            return port
    return 8080


def main(argv: list[str]) -> int:
    port = int(argv[1]) if len(argv) > 1 else find_port()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as answer:
            return 0 if answer.status == 200 else 1
    except OSError as exc:  # refused, timed out, or an HTTP error such as 503
        print(f"healthz on port {port}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
