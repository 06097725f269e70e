"""``hotline token create|revoke``: API tokens for call-takers, units, dispatchers and others."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from hotline.shared.domain.access import BadRole, hash_token, new_token, parse_role


def _database_url(data_dir: str) -> str:
    """HOTLINE_DATABASE_URL, or the embedded ledger that ``hotline up`` keeps in ``data_dir``."""
    url = os.environ.get("HOTLINE_DATABASE_URL")
    return url or f"sqlite:///{(Path(data_dir) / 'ledger.sqlite').resolve()}"


def create(args: argparse.Namespace) -> int:
    """Print a new token on stdout (only the token, so ``$(...)`` takes it); the rest on stderr."""
    try:
        parse_role(args.role)
    except BadRole as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    if args.print_only:
        token = new_token()
        print(token)
        print(
            f"for HOTLINE_TOKENS: {args.name}:{args.role}:{hash_token(token)}",
            file=sys.stderr,
        )
        return 0
    from hotline.shared.ledger import tokens  # the ledger only when it is needed
    from hotline.shared.ledger.engine import make_engine, make_sessions, migrate

    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    engine = make_engine(_database_url(args.data_dir))
    try:
        migrate(engine)
        with make_sessions(engine).begin() as session:
            token = tokens.create(session, args.name, args.role, datetime.now(UTC))
    finally:
        engine.dispose()
    print(token)
    print(f"token for {args.name} ({args.role}) stored hashed in the ledger", file=sys.stderr)
    return 0


def revoke(args: argparse.Namespace) -> int:
    """Revoke every token of a name; it stops working within seconds."""
    from hotline.shared.ledger import tokens
    from hotline.shared.ledger.engine import make_engine, make_sessions

    engine = make_engine(_database_url(args.data_dir))
    try:
        with make_sessions(engine).begin() as session:
            count = tokens.revoke(session, args.name, datetime.now(UTC))
    finally:
        engine.dispose()
    print(f"revoked {count} token(s) of {args.name}", file=sys.stderr)
    return 0 if count else 1


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``hotline token ...``."""
    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    new = token_sub.add_parser(
        "create", help="make a token; prints it once (the ledger keeps only its hash)"
    )
    new.add_argument(
        "--role",
        required=True,
        help="call-taker, unit:<id>, dispatcher, supervisor, feedback or admin",
    )
    new.add_argument("--name", required=True, help="who holds it (shown in history and logs)")
    new.add_argument("--data-dir", default="var", help="the embedded ledger's directory")
    new.add_argument(
        "--print-only",
        action="store_true",
        help="store nothing; print the token and its HOTLINE_TOKENS entry (NAME:ROLE:SHA256)",
    )
    new.set_defaults(run=create)
    gone = token_sub.add_parser("revoke", help="revoke every token of a name")
    gone.add_argument("--name", required=True)
    gone.add_argument("--data-dir", default="var", help="the embedded ledger's directory")
    gone.set_defaults(run=revoke)
