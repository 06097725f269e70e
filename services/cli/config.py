"""``hotline config check|schema`` and ``hotline route``: the district file, for the people who
write it. They need no broker and no database."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from hotline.intake.schemas import NewRequest
from hotline.shared.configuration.file import load_config
from hotline.shared.domain.config import json_schema
from hotline.shared.domain.lint import lint
from hotline.shared.domain.routing import Decision, RouteRequest, Rules


def config_check(args: argparse.Namespace) -> int:
    """Validate a district file and report its suspect parts; 1 when it cannot be used."""
    rules = Rules(load_config(args.file))  # a broken file raises ConfigError: exit 1
    findings = lint(rules)
    for finding in findings:
        print(f"{args.file}: {finding.level}: {finding.message}")
    config = rules.config
    errors = sum(f.level == "error" for f in findings)
    print(
        f"{args.file}: {'refused' if errors else 'ok'}: district {config.district}, "
        f"{len(config.areas)} areas, {len(config.categories)} categories, "
        f"{len(config.units)} units, {len(config.routes)} routes, "
        f"{len(findings) - errors} warnings"
    )
    return 1 if errors else 0


def config_schema(_: argparse.Namespace) -> int:
    """Print the JSON Schema of a district file (for editors and CI checks)."""
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    return 0


def route(args: argparse.Namespace) -> int:
    """Show where one request would go now, and why."""
    rules = Rules(load_config(args.config))
    try:
        request = NewRequest.model_validate_json(Path(args.request).read_text(encoding="utf-8"))
    except OSError as exc:
        print(f"{args.request}: cannot read: {exc.strerror}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            print(f"{args.request}: {field}: {err['msg']}", file=sys.stderr)
        return 2
    where = request.location
    decision = rules.decide(
        RouteRequest(
            request.category,
            request.urgency,
            request.channel,
            where.area_code,
            where.lat,
            where.lon,
        ),
        now=datetime.now(UTC),
    )
    if args.json:
        print(json.dumps(decision.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(_explained(decision))
    return 0


def _explained(decision: Decision) -> str:
    lines = []
    if decision.transfer_to:
        lines.append(f"transfer: to district {decision.transfer_to}")
    else:
        lines.append(f"unit: {decision.unit or '(manual triage)'}")
        lines.append(f"rule: {decision.rule}")
    loc = decision.location
    lines.append(f"areas: {' < '.join(loc.chain) or '(not located)'} (from {loc.source})")
    if loc.note:
        lines.append(f"note: {loc.note}")
    if decision.observers:
        lines.append(f"copies: {', '.join(decision.observers)}")
    lines.append("rules tried:")
    for trial in decision.tried:
        if trial.failed:
            lines.append(f"  skipped   {trial.rule}: {trial.failed}")
        elif trial.observed_by:
            lines.append(f"  observes  {trial.rule}: copy to {', '.join(trial.observed_by)}")
        else:
            lines.append(f"  matched   {trial.rule}")
    return "\n".join(lines)
