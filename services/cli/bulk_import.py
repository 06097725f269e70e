"""``hotline import FILE.csv|jsonl``: a file of requests, submitted through the intake's API.

Each line goes through ``POST /api/v1/requests`` like a call-taker's request, so
the same validation, idempotency, duplicate linking and routing apply. Every
line carries an ``Idempotency-Key`` made of the file's digest and the line
number: importing the same file again (or retrying after a dropped connection)
creates nothing new. Rejected lines are reported with the API's reason.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from hotline.cli.client_token import NO_TOKEN, client_token

if TYPE_CHECKING:  # httpx is imported when the command runs, so `hotline` starts fast
    import httpx

#: CSV columns (any order; empty cells are left out); JSONL lines are API bodies as they are.
CSV_COLUMNS = (
    "district", "channel", "caller_name", "caller_phone", "area_code", "lat", "lon", "address",
    "category", "description", "urgency", "resolved_at_intake", "answer",
)  # fmt: skip

TRIES = 3


@dataclass(frozen=True)
class Line:
    """One request read from the file, or why it could not be read."""

    number: int
    body: dict[str, Any] | None
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What the API said about one line."""

    number: int
    status: str  # "created", "repeat", "rejected"
    detail: str


def _csv_body(row: dict[str, str]) -> dict[str, Any]:
    cell = {k: v.strip() for k, v in row.items() if k and v is not None and v.strip()}
    unknown = sorted(set(cell) - set(CSV_COLUMNS))
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)}")
    body: dict[str, Any] = {
        k: cell[k] for k in ("district", "channel", "category", "description", "urgency", "answer")
        if k in cell
    }  # fmt: skip
    body["caller"] = {"name": cell.get("caller_name"), "phone": cell.get("caller_phone")}
    location: dict[str, Any] = {"area_code": cell.get("area_code"), "address": cell.get("address")}
    for key in ("lat", "lon"):
        if key in cell:
            try:
                location[key] = float(cell[key])
            except ValueError:
                raise ValueError(f"location.{key}: not a number: {cell[key]!r}") from None
    body["location"] = {k: v for k, v in location.items() if v is not None}
    if "resolved_at_intake" in cell:
        body["resolved_at_intake"] = cell["resolved_at_intake"].lower() in ("1", "true", "yes")
    return body


def read_lines(path: Path, text: str) -> Iterator[Line]:
    """The file's requests, numbered as an editor numbers its lines."""
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        for row in reader:
            number = reader.line_num
            try:
                yield Line(number, _csv_body(row))
            except ValueError as exc:
                yield Line(number, None, str(exc))
        return
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            body = json.loads(raw)
        except ValueError as exc:
            yield Line(number, None, f"not JSON: {exc}")
            continue
        if not isinstance(body, dict):
            yield Line(number, None, "not a JSON object")
            continue
        yield Line(number, body)


def _reason(answer: httpx.Response) -> str:
    try:
        detail = answer.json()["detail"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {answer.status_code}: {answer.text[:200]}"
    if isinstance(detail, list):
        parts = []
        for error in detail:
            loc = [str(p) for p in error.get("loc", []) if p != "body"]
            parts.append(f"{'.'.join(loc) or 'body'}: {error.get('msg')}")
        return "; ".join(parts)
    return f"HTTP {answer.status_code}: {detail}"


def _submit(client: httpx.Client, line: Line, key_prefix: str) -> Outcome:
    import httpx

    if line.body is None:
        return Outcome(line.number, "rejected", line.error or "unreadable")
    headers = {"Idempotency-Key": f"{key_prefix}:{line.number}"}
    for attempt in range(TRIES):
        try:
            answer = client.post("/api/v1/requests", json=line.body, headers=headers)
        except httpx.HTTPError as exc:
            if attempt == TRIES - 1:
                return Outcome(line.number, "rejected", f"not delivered: {exc}")
            time.sleep(0.5 * (attempt + 1))  # the key makes the retry safe
            continue
        if answer.status_code == 201:
            return Outcome(line.number, "created", answer.json()["id"])
        if answer.status_code == 200:
            return Outcome(line.number, "repeat", answer.json()["id"])
        if answer.status_code >= 500 and attempt < TRIES - 1:
            time.sleep(0.5 * (attempt + 1))
            continue
        return Outcome(line.number, "rejected", _reason(answer))
    raise AssertionError("unreachable")


def _progress(out: TextIO, done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    out.flush()


def _read_file(path: Path) -> bytes | None:
    """The file's bytes, or None (said on stderr) when it is not one we import or cannot be read."""
    if path.suffix.lower() not in (".csv", ".jsonl"):
        print(f"hotline: {path}: give a .csv or .jsonl file", file=sys.stderr)
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return None


def _submit_all(
    args: argparse.Namespace, token: str, lines: list[Line], key_prefix: str
) -> list[Outcome]:
    """Every line's outcome, in file order, ``--concurrency`` requests in flight."""
    import httpx

    headers = {"authorization": f"Bearer {token}"}
    outcomes: list[Outcome] = []
    with (
        httpx.Client(base_url=args.api, headers=headers, timeout=30) as client,
        ThreadPoolExecutor(max_workers=args.concurrency) as pool,
    ):
        for outcome in pool.map(lambda line: _submit(client, line, key_prefix), lines):
            outcomes.append(outcome)
            if len(outcomes) % 10 == 0 or len(outcomes) == len(lines):
                _progress(sys.stderr, len(outcomes), len(lines))
    if lines:
        sys.stderr.write("\n")
    return outcomes


def _write_report(report_path: str, outcomes: list[Outcome]) -> None:
    """Every line's outcome as CSV: the rejected lines can be fixed and the file imported again."""
    with open(report_path, "w", newline="", encoding="utf-8") as report:
        writer = csv.writer(report)
        writer.writerow(["line", "status", "ticket_or_reason"])
        for outcome in outcomes:
            writer.writerow([outcome.number, outcome.status, outcome.detail])


def run(args: argparse.Namespace) -> int:
    """Import the file; 0 when every line was taken, 1 when some were rejected, 2 on no file."""
    path = Path(args.file)
    raw = _read_file(path)
    if raw is None:
        return 2
    token = client_token(args.token, args.data_dir)
    if token is None:
        print(f"hotline: {NO_TOKEN}", file=sys.stderr)
        return 2
    lines = list(read_lines(path, raw.decode("utf-8-sig")))
    if args.district:
        for line in lines:
            if line.body is not None:
                line.body.setdefault("district", args.district)
    key_prefix = f"import:{hashlib.sha256(raw).hexdigest()[:16]}"
    outcomes = _submit_all(args, token, lines, key_prefix)
    rejected = [o for o in outcomes if o.status == "rejected"]
    for outcome in rejected:
        print(f"{path.name}:{outcome.number}: {outcome.detail}")
    if args.report:
        _write_report(args.report, outcomes)
    created = sum(o.status == "created" for o in outcomes)
    repeats = sum(o.status == "repeat" for o in outcomes)
    print(
        f"{len(lines)} lines: {created} created, {repeats} already imported, "
        f"{len(rejected)} rejected",
        file=sys.stderr,
    )
    return 1 if rejected else 0


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``hotline import``."""
    cmd = sub.add_parser(
        "import", help="submit a .csv or .jsonl file of requests through the API, with a report"
    )
    cmd.add_argument(
        "file", help=f"a .jsonl of API bodies, or a .csv with {', '.join(CSV_COLUMNS)}"
    )
    cmd.add_argument("--api", default="http://127.0.0.1:8080", help="the intake's base URL")
    cmd.add_argument(
        "--token", help="a call-taker token (default: HOTLINE_TOKEN, or var/admin.token)"
    )
    cmd.add_argument("--data-dir", default="var", help="where `hotline up` left admin.token")
    cmd.add_argument("--district", help="for lines that do not name one")
    cmd.add_argument("--report", help="write every line's outcome to this CSV")
    cmd.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    cmd.set_defaults(run=run)
