"""The HTTP socket of a process, bound before anything else starts.

A taken port must fail at once, with a plain reason, before a broker or a
database is touched; and once bound, no helper that picks a free port of its
own (the embedded Kafka broker) can take it meanwhile.
"""

from __future__ import annotations

import socket


class PortTaken(Exception):
    """The HTTP port cannot be bound; nothing else has been started."""


def listen(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """Bind ``host:port`` for the web server; raise :class:`PortTaken` if it cannot.

    ``shared`` (``SO_REUSEPORT``) lets the workers of one supervisor each bind
    the port: the kernel spreads new connections evenly over them.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortTaken(f"cannot serve HTTP on {host}:{port}: {exc.strerror}") from exc
    return sock
