"""The `iris` console script: serve, db, manifest, and the commands later features bring."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import __version__
from bot.config import Config, ConfigError, load_config, require_slack_credentials
from bot.slack.manifest import ManifestError, dump_manifest, load_manifest, render_manifest
from storage import audit
from storage.db import DatabaseUnavailable, check_reachable, open_engine, safe_url, session_scope
from storage.migrate import upgrade

USAGE_ERROR = 2


class CliError(Exception):
    """A sentence for the terminal; the command exits with code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (CliError, ConfigError, DatabaseUnavailable, ManifestError) as exc:
        print(f"iris: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130


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
    trail.add_argument("--since", required=True, type=_parse_since, help="ISO date or time, e.g. 2024-12-12")
    trail.add_argument("--limit", type=int, default=1000)
    trail.set_defaults(run=run_db_audit)

    manifest = commands.add_parser("manifest", help="print manifest.yml for a deployment")
    manifest.add_argument("--url", help="public https:// base URL of iris serve")
    manifest.add_argument("--socket-mode", action="store_true", help="print the Socket Mode variant")
    manifest.set_defaults(run=run_manifest)

    _later(commands, "demo", "everything end to end on this machine, no Slack account needed")
    rehearse = commands.add_parser("rehearse", help="run a rehearsal from the terminal or CI")
    rehearse.add_argument("file", type=Path, help="the scenario file (YAML)")
    rehearse.add_argument("--runs", type=_positive_int, help="run fewer times than the file says")
    rehearse.add_argument("--json", action="store_true", help="print the full result as JSON")
    rehearse.add_argument("--check", action="store_true", help="only validate the scenario file")
    rehearse.set_defaults(run=run_rehearse)
    checklist = commands.add_parser("checklist", help="verify a checklist's trail, check a template")
    checklist_commands = checklist.add_subparsers(dest="checklist_command", required=True)
    verify = checklist_commands.add_parser("verify", help="recompute the hash chain of a checklist's trail")
    verify.add_argument("id", help="the checklist id, as shown in Slack")
    verify.set_defaults(run=run_checklist_verify)
    check = checklist_commands.add_parser("check", help="validate a checklist template file")
    check.add_argument("file", type=Path, help="the template (Markdown)")
    check.set_defaults(run=run_checklist_check)
    _later(commands, "report", "write the day's report", (), ("--date", "--format", "--lang"))
    return parser


def _later(
    commands: argparse._SubParsersAction,
    name: str,
    summary: str,  # type: ignore[type-arg]
    positionals: tuple[str, ...] = (),
    options: tuple[str, ...] = (),
) -> None:
    """A command whose feature has not landed yet: it says so plainly instead of faking output."""
    parser = commands.add_parser(name, help=f"{summary} (not available yet)")
    for positional in positionals:
        parser.add_argument(positional, nargs="?")
    for option in options:
        parser.add_argument(option)

    def run(_: argparse.Namespace) -> int:
        raise CliError(f"'iris {name}' is not available yet in this version of IRIS.")

    parser.set_defaults(run=run)


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of runs (1 or more)")
    return int(value)


def _parse_since(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO date such as 2024-12-12") from None


def _config() -> Config:
    return load_config()


def run_serve(args: argparse.Namespace) -> int:
    from bot.runtime import serve  # imported here: only `iris serve` needs the server stack

    config = _config()
    require_slack_credentials(config.settings)
    port = args.port if args.port is not None else config.settings.iris_port
    if not 1 <= port <= 65535:
        raise CliError(f"--port must be between 1 and 65535, not {port}.")
    serve(config, host=args.host, port=port)
    return 0


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
    engine = open_engine(settings.iris_database_url)
    check_reachable(engine, settings.iris_database_url)
    # A time without an offset is read in the team's time zone; the trail is stored in UTC.
    local = args.since if args.since.tzinfo else args.since.replace(tzinfo=ZoneInfo(settings.iris_timezone))
    since = local.astimezone(UTC)
    with session_scope(engine) as session:
        events = audit.since(session, since, args.limit)
    print("at (UTC)\tactor\taction\ttarget\toutcome\tteam\tchannel\tdetail")
    for e in events:
        print(
            "\t".join(
                [
                    e.at.isoformat(timespec="seconds"),
                    e.actor,
                    e.action,
                    e.target,
                    e.outcome,
                    e.team_id or "-",
                    e.channel_id or "-",
                    e.detail,
                ]
            )
        )
    return 0


def run_rehearse(args: argparse.Namespace) -> int:
    """Exit 0 on pass, 1 on fail or inconclusive, 2 on an invalid scenario: usable as a CI gate."""
    from bot.rehearsals.cli import rehearse_from_terminal  # the engine is not needed by other commands

    return rehearse_from_terminal(args.file, runs=args.runs, as_json=args.json, check_only=args.check)


def run_checklist_verify(args: argparse.Namespace) -> int:
    """Exit 0 intact, 1 tampered (naming the first altered or removed event), 2 bad input."""
    from bot.checklists.cli import verify_from_terminal

    return verify_from_terminal(args.id)


def run_checklist_check(args: argparse.Namespace) -> int:
    from bot.checklists.cli import check_from_terminal

    return check_from_terminal(args.file)


def run_manifest(args: argparse.Namespace) -> int:
    rendered = render_manifest(load_manifest(), url=args.url, socket_mode=args.socket_mode)
    sys.stdout.write(dump_manifest(rendered))
    return 0


if __name__ == "__main__":
    sys.exit(main())
