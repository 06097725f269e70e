"""The ``hotline`` console script: one entry point for every role and every service.

Commands import their service lazily, so ``hotline config check`` starts in a
blink and needs no broker.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from hotline.shared.configuration.file import ConfigError
from hotline.shared.domain.privacy import MaskingFilter
from hotline.shared.ledger.exclusive import AlreadyRunning
from hotline.shared.runtime.listener import PortTaken
from hotline.shared.runtime.settings import SettingsError

Command = Callable[[argparse.Namespace], int]


def _config_check(args: argparse.Namespace) -> int:
    from hotline.cli.config import config_check

    return config_check(args)


def _config_schema(args: argparse.Namespace) -> int:
    from hotline.cli.config import config_schema

    return config_schema(args)


def _route(args: argparse.Namespace) -> int:
    if args.action == "replay":
        from hotline.cli.route_replay import run

        return run(args)
    if args.request is None:
        raise SystemExit("hotline route: --request FILE is needed (or: hotline route replay)")
    from hotline.cli.config import route

    return route(args)


def _up(args: argparse.Namespace) -> int:
    from hotline.processes.up import run_embedded

    return run_embedded(
        config_path=args.config, host=args.host, port=args.port, data_dir=Path(args.data_dir)
    )


def _service(name: str) -> Command:
    def run(args: argparse.Namespace) -> int:
        from hotline.processes.production import run_service

        return run_service(
            name,
            host=args.host,
            port=args.port,
            workers=args.workers,
            worker=args.worker,
        )

    return run


def _unit_listen(args: argparse.Namespace) -> int:
    from hotline.cli.units import interactive, listen

    if args.interactive:
        return interactive(args.unit, args.amqp_url, args.config, args.api, args.token)
    return listen(unit_id=args.unit, amqp_url=args.amqp_url, config_path=args.config)


def _simulate(args: argparse.Namespace) -> int:
    from hotline.cli.simulate import ANSWERED_AT_INTAKE, HOUR, Plan, simulate
    from hotline.shared.configuration.file import load_config

    if args.speed <= 0 or args.per_day < 0 or args.hours <= 0:
        raise SystemExit("hotline simulate: --speed and --hours must be > 0, --per-day >= 0")
    if args.first_contact is None:  # the module's default, read only once it is imported
        args.first_contact = ANSWERED_AT_INTAKE
    shares = ("responsive", "progress_share", "extensions", "returns", "feedback", "first_contact")
    for name in shares:
        if not 0 <= getattr(args, name) <= 1:
            option = "--" + name.replace("_", "-")
            raise SystemExit(f"hotline simulate: {option} is a share, from 0 to 1")
    plan = Plan(
        per_day=args.per_day,
        hours=args.hours,
        start_hour=args.start_hour,
        speed=args.speed,
        burst=args.burst,
        first_contact_share=args.first_contact,
        responsive_share=args.responsive,
        sign_after=args.sign_after * 60,
        progress_share=args.progress_share,
        extension_share=args.extensions,
        resolve_after=args.resolve_after * HOUR,
        return_share=args.returns,
        feedback_share=args.feedback,
        settle=args.settle,
        seed=args.seed,
    )
    from hotline.cli.client_token import NO_TOKEN, client_token

    token = client_token(args.token, args.data_dir)
    if token is None:
        raise SystemExit(f"hotline simulate: {NO_TOKEN}")
    config = load_config(args.config or os.environ.get("HOTLINE_CONFIG"))
    return simulate(args.url, config, plan, token, as_json=args.json)


def _report(args: argparse.Namespace) -> int:
    from hotline.cli.report import run

    return run(args)


def _positive(text: str) -> int:
    """A whole number of 1 or more, for argparse."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline", description="Dispatch for a district's citizen-service hotline."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run every service on the embedded default")
    up.add_argument("--config", help="district file (default: the example district)")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8080)
    up.add_argument("--data-dir", default="var", help="where the embedded ledger and queues live")
    up.set_defaults(run=_up)

    ports = {"intake": 8080, "router": 8081, "notifier": 8082}
    for name, port in ports.items():
        service = sub.add_parser(name, help=f"run the {name} against HOTLINE_* settings")
        service.add_argument("--host", default="0.0.0.0")
        service.add_argument("--port", type=int, default=port, help="health and metrics port")
        if name == "intake":
            service.add_argument(
                "--workers",
                type=_positive,
                default=1,
                help="processes serving the port (one core each; default 1)",
            )
        else:
            service.set_defaults(workers=1)
        # set by the supervisor of --workers for the processes it starts
        service.add_argument("--worker", help=argparse.SUPPRESS)
        service.set_defaults(run=_service(name))

    config = sub.add_parser("config", help="district configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a district file")
    check.add_argument("file")
    check.set_defaults(run=_config_check)
    schema = config_sub.add_parser("schema", help="print the JSON Schema of a district file")
    schema.set_defaults(run=_config_schema)

    route = sub.add_parser(
        "route",
        help="show the routing decision for one request, and why; or replay the ledger",
        description="hotline route --request FILE: where one request goes and why. "
        "hotline route replay --config NEW.yaml: how many past tickets the new rules "
        "would send elsewhere, with examples (reads the ledger, writes nothing).",
    )
    route.add_argument("action", nargs="?", choices=["replay"], help="replay the ledger")
    route.add_argument("--config", help="district file (default: the example district)")
    route.add_argument("--request", help="a JSON request as POSTed to the API")
    route.add_argument("--json", action="store_true", help="print JSON")
    route.add_argument(
        "--database",
        help="replay: ledger URL (default: HOTLINE_DATABASE_URL, else var/ledger.sqlite)",
    )
    route.add_argument("--since", help="replay: only tickets received from this date or time")
    route.add_argument(
        "--examples", type=int, default=3, help="replay: ticket ids shown per move (default 3)"
    )
    route.set_defaults(run=_route)

    from hotline.cli.bulk_import import add_command as import_command
    from hotline.cli.tokens import add_commands as token_commands

    token_commands(sub)
    import_command(sub)

    unit = sub.add_parser("unit", help="what a handling unit does")
    unit_sub = unit.add_subparsers(dest="unit_command", required=True)
    listen = unit_sub.add_parser("listen", help="print the tasks arriving in a unit's queue")
    listen.add_argument("--unit", required=True, help="the unit id")
    listen.add_argument("--amqp-url", help="default: HOTLINE_AMQP_URL, or the embedded queues")
    listen.add_argument("--config", help="district file (default: HOTLINE_CONFIG or the example)")
    listen.add_argument(
        "-i",
        "--interactive",
        action="store_true",
        help="also sign for, report progress on, return and resolve tasks (type help)",
    )
    listen.add_argument("--api", default="http://127.0.0.1:8080", help="the intake's base URL")
    listen.add_argument("--token", help="the unit's token (default: HOTLINE_TOKEN)")
    listen.set_defaults(run=_unit_listen)

    sim = sub.add_parser(
        "simulate",
        help="drive a running system with a realistic (compressed) day",
        description="Posts a day's requests with morning and evening peaks, the seeds' category "
        "mix and an evening burst of one category in one community, and plays the units "
        "(sign-for, progress, extensions, returns, resolutions, a few that never answer) and "
        "the feedback group. Delays are simulated minutes and hours, divided by --speed.",
    )
    sim.add_argument("--url", default="http://127.0.0.1:8080", help="the intake's base URL")
    sim.add_argument("--config", help="district file (default: HOTLINE_CONFIG or the example)")
    sim.add_argument("--per-day", type=int, default=400, help="requests in a whole day")
    sim.add_argument("--hours", type=float, default=24.0, help="simulated hours to run")
    sim.add_argument("--start-hour", type=float, default=0.0, help="simulated start (0-24)")
    sim.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="simulated seconds per real second (60: a day in 24 min)",
    )
    sim.add_argument("--burst", type=int, help="requests in the burst (default 5%% of --per-day)")
    sim.add_argument(
        "--first-contact",
        type=float,
        help="share of calls answered on the spot, never routed (default 0.1; the seeds' "
        "bulletin: 0.76)",
    )
    sim.add_argument(
        "--responsive",
        type=float,
        default=0.8,
        help="share of units that answer (the rest never do)",
    )
    sim.add_argument(
        "--sign-after", type=float, default=20, help="mean simulated minutes to sign for"
    )
    sim.add_argument(
        "--progress-share", type=float, default=0.7, help="share of tasks with a progress report"
    )
    sim.add_argument(
        "--extensions", type=float, default=0.1, help="share of those asking for more time"
    )
    sim.add_argument(
        "--resolve-after", type=float, default=3, help="mean simulated hours to resolve"
    )
    sim.add_argument("--returns", type=float, default=0.05, help="share of tasks returned")
    sim.add_argument(
        "--feedback", type=float, default=0.6, help="share of results the citizen rates"
    )
    sim.add_argument("--settle", type=float, default=10.0, help="real seconds to let units finish")
    sim.add_argument("--seed", type=int, help="random seed, for a repeatable day")
    sim.add_argument("--json", action="store_true", help="print the summary as JSON")
    sim.add_argument("--token", help="an admin token (default: HOTLINE_TOKEN, var/admin.token)")
    sim.add_argument("--data-dir", default="var", help="where hotline up keeps admin.token")
    sim.set_defaults(run=_simulate)

    report = sub.add_parser(
        "report",
        help="the figures a hotline publishes for a period, from the ledger",
        description="Tickets received from --from to --to (whole days in the district's "
        "time zone, both included): received by channel, answered at first contact, given "
        "to units by kind, transferred, completed, completion rate, median times, "
        "satisfaction, escalations. Reads the ledger, writes nothing.",
    )
    report.add_argument("--from", dest="start", required=True, metavar="DATE", help="YYYY-MM-DD")
    report.add_argument("--to", dest="end", required=True, metavar="DATE", help="YYYY-MM-DD")
    report.add_argument("--format", choices=["md", "csv", "json"], default="md")
    report.add_argument("--config", help="district file (default: HOTLINE_CONFIG or the example)")
    report.add_argument(
        "--database", help="ledger URL (default: HOTLINE_DATABASE_URL, else var/ledger.sqlite)"
    )
    report.set_defaults(run=_report)
    return parser


#: Loggers that speak only with --verbose: libraries' chatter, and faust's
#: services, which log through our transport's module logger.
NOISY_LOGGERS = (
    "aiokafka",
    "faust",
    "mode",
    "kombu",
    "amqp",
    "alembic.runtime.plugins",
    "hotline.shared.messaging.streams.transport",
    "httpx",
)


def main(argv: Sequence[str] | None = None) -> None:
    """Run one command; exit 1 on a refused config or setting, with the reason on stderr."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())  # phone numbers never reach a log
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        code = args.run(args)
    except (ConfigError, SettingsError, PortTaken, AlreadyRunning) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code)
