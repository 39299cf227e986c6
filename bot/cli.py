"""The `iris` console script: serve, db, manifest, demo, and each feature's own commands (Feature.cli)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import __version__
from bot.config import Config, ConfigError, require_slack_credentials
from bot.errors import BAD_INPUT, CliError
from bot.slack.manifest import ManifestError, dump_manifest, load_manifest, render_manifest
from commands import registry
from commands.registry import load_config
from storage import audit
from storage.db import DatabaseUnavailable, check_reachable, open_engine, safe_url, session_scope
from storage.migrate import open_for_reading, upgrade


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (CliError, ConfigError, DatabaseUnavailable, ManifestError) as exc:
        print(f"iris: {exc}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `iris … | head` stopped reading: end quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit flush must not fail too
        return 141


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iris", description="IRIS, the ChatOps bot for careful releases.")
    parser.add_argument("--version", action="version", version=f"iris {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot: Slack, health, readiness and metrics")
    serve.add_argument("--port", type=int, default=None, help="port (default $IRIS_PORT or 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="address to bind (default 0.0.0.0)")
    serve.set_defaults(run=run_serve)

    db = commands.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply pending schema migrations").set_defaults(run=run_db_upgrade)
    trail = db.add_parser("audit", help="print the audit trail")
    since = "ISO date or time, e.g. 2026-12-01 or 2026-12-01T09:00"
    trail.add_argument("--since", required=True, type=_parse_since, help=since)
    trail.add_argument("--limit", type=_positive, default=1000, help="at most this many rows (default 1000)")
    trail.set_defaults(run=run_db_audit)

    manifest = commands.add_parser("manifest", help="print manifest.yml for a deployment")
    manifest.add_argument("--url", help="public https:// base URL of iris serve")
    manifest.add_argument("--socket-mode", action="store_true", help="print the Socket Mode variant")
    manifest.set_defaults(run=run_manifest)

    demo = commands.add_parser("demo", help="everything end to end on this machine, no Slack account needed")
    demo.add_argument("--port", type=int, default=8000, help="the playground page's port (default 8000)")
    demo.add_argument("--host", default="127.0.0.1", help="address of the page (default loopback only)")
    demo.add_argument("--tour", action="store_true", help="walk through the brief's day in about two minutes")
    demo.add_argument(
        "--db", type=Path, help="keep the demo's SQLite database in this file (default: temporary)"
    )
    demo.set_defaults(run=run_demo)
    registry.add_cli(commands)
    parser.set_defaults(load_config=load_config)  # a feature's command reads iris.yml with every section
    return parser


def _positive(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return int(value)


def _parse_since(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO date such as 2026-12-01") from None


def _config() -> Config:
    return load_config()  # with every feature's own section of iris.yml


def run_serve(args: argparse.Namespace) -> int:
    from bot.runtime import serve  # noqa: PLC0415  (only `iris serve` pays for the server stack's imports)

    config = _config()
    require_slack_credentials(config.settings)
    port = args.port if args.port is not None else config.settings.iris_port
    if not 1 <= port <= 65535:
        raise CliError(f"--port must be between 1 and 65535, not {port}.")
    serve(config, host=args.host, port=port)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    # Only `iris demo` pays for the stand-in's and the playground's imports.
    from bot.demo.runner import DemoOptions  # noqa: PLC0415
    from bot.demo.runner import run_demo as demo  # noqa: PLC0415
    from bot.demo.world import DemoSetupError  # noqa: PLC0415

    if not 1 <= args.port <= 65535:
        raise CliError(f"--port must be between 1 and 65535, not {args.port}.")
    try:
        return demo(DemoOptions(port=args.port, host=args.host, tour=args.tour, db=args.db))
    except DemoSetupError as exc:
        raise CliError(str(exc)) from None


def run_db_upgrade(_: argparse.Namespace) -> int:
    url = _config().settings.iris_database_url
    engine = open_engine(url)
    check_reachable(engine, url)
    before, after = upgrade(engine, url)
    print(
        f"{safe_url(url)}: schema {before or 'empty'} → {after}"
        if before != after
        else f"{safe_url(url)}: schema {after} is current"
    )
    return 0


def run_db_audit(args: argparse.Namespace) -> int:
    settings = _config().settings
    engine = open_for_reading(settings.iris_database_url)
    # A time without an offset is read in the team's time zone; the trail is stored in UTC.
    local = args.since if args.since.tzinfo else args.since.replace(tzinfo=ZoneInfo(settings.iris_timezone))
    since = local.astimezone(UTC)
    with session_scope(engine) as session:
        events = audit.since(session, since, args.limit)
    print("at (UTC)\tactor\taction\ttarget\toutcome\tteam\tchannel\tdetail\tcut to fit")
    for e in events:
        print(audit_line(e))
    return 0


def audit_line(e: audit.AuditEvent) -> str:
    """One row, one line: tabs and line breaks inside a value are shown escaped, never as columns.

    The last column names each value that was cut or cleaned to fit, with the whole value's sha256.
    """
    values = [e.actor, e.action, e.target, e.outcome, e.team_id or "-", e.channel_id or "-", e.detail]
    cut = json.loads(e.digests) if e.digests else {}
    shown = "; ".join(f"{name}: {d['chars']} chars, sha256 {d['sha256']}" for name, d in sorted(cut.items()))
    return "\t".join([e.at.isoformat(timespec="seconds"), *map(_one_line, values), shown or "-"])


def _one_line(text: str) -> str:
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def run_manifest(args: argparse.Namespace) -> int:
    hint = registry.usage_hint()
    rendered = render_manifest(load_manifest(), url=args.url, socket_mode=args.socket_mode, usage_hint=hint)
    sys.stdout.write(dump_manifest(rendered))
    return 0


if __name__ == "__main__":
    sys.exit(main())
