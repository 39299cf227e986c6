"""The `iris` console script: serve, db, manifest, demo, and each feature's own commands (Feature.cli)."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from bot import __version__
from bot.config import Config, ConfigError, require_slack_credentials
from bot.errors import BAD_INPUT, CliError
from bot.i18n import LANGUAGES, N_, Translator, translator
from bot.slack.manifest import ManifestError, dump_manifest, load_manifest, render_manifest
from commands import registry
from commands.registry import load_config
from storage import audit
from storage.db import DatabaseUnavailable, check_reachable, open_engine, safe_url, session_scope
from storage.migrate import open_for_reading, upgrade

MAX_AUDIT_ROWS = 1_000_000  # more than a year of a busy team's trail; a bigger --limit is a typo


def main(argv: Sequence[str] | None = None) -> int:
    lang = os.environ.get("IRIS_LANG", "en")
    if lang not in LANGUAGES:  # before anything else: every later sentence is in this language
        print(
            f"iris: IRIS_LANG is invalid: must be one of {', '.join(LANGUAGES)} (got {lang!r}).",
            file=sys.stderr,
        )
        return BAD_INPUT
    t = translator(lang)
    with _argparse_speaks(t):
        args = build_parser(t).parse_args(argv)
        try:
            return int(args.run(args) or 0)
        except (CliError, ConfigError, DatabaseUnavailable, ManifestError) as exc:
            print(f"iris: {_sentence(t, exc)}", file=sys.stderr)
            return BAD_INPUT
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:  # `iris … | head` stopped reading: end quietly, as cat does
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit flush must not fail too
            return 141


def _sentence(t: Translator, exc: Exception) -> str:
    """The refusal in IRIS_LANG: each of these errors carries its English id and the values that fill it."""
    message = getattr(exc, "message", None)
    return t(message, **getattr(exc, "values", {})) if isinstance(message, str) else str(exc)


# argparse's own phrases (usage, option headings, its errors), marked here so the catalog carries them.
ARGPARSE_PHRASES = (
    N_("usage: "),
    N_("options"),
    N_("positional arguments"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("expected one argument"),
)


@contextmanager
def _argparse_speaks(t: Translator) -> Iterator[None]:
    """argparse looks its gettext function up at call time; for this command it is IRIS's catalog."""
    saved = argparse._  # type: ignore[attr-defined]
    argparse._ = t  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = saved  # type: ignore[attr-defined]


class _Formatter(argparse.HelpFormatter):
    """Help texts are English ids marked with N_; they are shown in IRIS_LANG."""

    def __init__(self, prog: str, t: Translator, **kwargs: Any) -> None:
        super().__init__(prog, **kwargs)
        self._t = t

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return self._t(action.help) if action.help else action.help


class _Parser(argparse.ArgumentParser):
    """A mistake on the command line is one sentence and exit code 2, not the usage and then the error.

    Subcommands' parsers are made of the same class (argparse's add_subparsers default), so they
    share the translator of the command's language.
    """

    t: Translator = translator("en")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", functools.partial(_Formatter, t=self.t))
        if isinstance(kwargs.get("description"), str):
            kwargs["description"] = self.t(kwargs["description"])
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        sentence = self.t(N_("{problem}; see {prog} --help."), problem=message, prog=self.prog)
        self.exit(BAD_INPUT, f"{self.prog}: {sentence}\n")


def build_parser(t: Translator | None = None) -> argparse.ArgumentParser:
    """The `iris` command line; help texts and argparse's own sentences in the language of `t`."""
    parser_class = type("IrisParser", (_Parser,), {"t": t or translator("en")})
    parser = parser_class(prog="iris", description=N_("IRIS, the ChatOps bot for careful releases."))
    parser.add_argument("--version", action="version", version=f"iris {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help=N_("run the bot: Slack, health, readiness and metrics"))
    serve.add_argument("--port", type=_port, default=None, help=N_("port (default $IRIS_PORT or 3000)"))
    serve.add_argument("--host", default="0.0.0.0", help=N_("address to bind (default 0.0.0.0)"))
    serve.set_defaults(run=run_serve)

    db = commands.add_parser("db", help=N_("database maintenance")).add_subparsers(
        dest="db_command", required=True, metavar="COMMAND"
    )
    db.add_parser("upgrade", help=N_("apply pending schema migrations")).set_defaults(run=run_db_upgrade)
    trail = db.add_parser("audit", help=N_("print the audit trail"))
    since = N_("ISO date or time, e.g. 2026-12-01 or 2026-12-01T09:00")
    trail.add_argument("--since", required=True, type=_parse_since, help=since)
    limit = N_("at most this many rows (default 1000)")
    trail.add_argument("--limit", type=_limit, default=1000, help=limit)
    trail.set_defaults(run=run_db_audit)

    manifest = commands.add_parser("manifest", help=N_("print manifest.yml for a deployment"))
    manifest.add_argument("--url", help=N_("public https:// base URL of iris serve"))
    manifest.add_argument("--socket-mode", action="store_true", help=N_("print the Socket Mode variant"))
    manifest.set_defaults(run=run_manifest)

    demo = commands.add_parser(
        "demo", help=N_("everything end to end on this machine, no Slack account needed")
    )
    demo.add_argument(
        "--port", type=_port, default=8000, help=N_("the playground page's port (default 8000)")
    )
    demo.add_argument("--host", default="127.0.0.1", help=N_("address of the page (default loopback only)"))
    tour = N_(
        "walk through a day of the team's work (rehearsal, checklist, briefing, alerts) in about two minutes"
    )
    demo.add_argument("--tour", action="store_true", help=tour)
    keep = N_("keep the demo's SQLite database in this file (default: temporary)")
    demo.add_argument("--db", type=Path, help=keep)
    demo.set_defaults(run=run_demo)
    registry.add_cli(commands)
    parser.set_defaults(load_config=load_config)  # a feature's command reads iris.yml with every section
    return parser


def _in_language(message: str, **values: object) -> str:
    """A sentence for argparse to show, in the language it speaks for this command (_argparse_speaks)."""
    return str(argparse._(message)).format(**values)  # type: ignore[attr-defined]


def _limit(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_AUDIT_ROWS:
        raise argparse.ArgumentTypeError(
            _in_language(
                N_("{value!r} is not a whole number from 1 to {most}"), value=value, most=MAX_AUDIT_ROWS
            )
        )
    return int(value)


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(
            _in_language(N_("{value!r} is not a port between 1 and 65535"), value=value)
        )
    return int(value)


def _parse_since(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _in_language(N_("{value!r} is not an ISO date such as 2026-12-01"), value=value)
        ) from None


def _config() -> Config:
    return load_config()  # with every feature's own section of iris.yml


def run_serve(args: argparse.Namespace) -> int:
    from bot.runtime import serve  # noqa: PLC0415  (only `iris serve` pays for the server stack's imports)

    config = _config()
    require_slack_credentials(config.settings)
    port = args.port if args.port is not None else config.settings.iris_port
    serve(config, host=args.host, port=port)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    # Only `iris demo` pays for the stand-in's and the playground's imports.
    from bot.demo.runner import DemoOptions  # noqa: PLC0415
    from bot.demo.runner import run_demo as demo  # noqa: PLC0415
    from bot.demo.world import DemoSetupError  # noqa: PLC0415

    if args.db is not None:
        _check_demo_db(args.db)
    try:
        return demo(DemoOptions(port=args.port, host=args.host, tour=args.tour, db=args.db))
    except DemoSetupError as exc:
        raise CliError(str(exc)) from None


def _check_demo_db(path: Path) -> None:
    """Before the demo starts anything: --db must be a file in a folder that exists."""
    if path.is_dir():
        raise CliError(N_("--db {path} is a folder; give a file such as {path}/demo.db."), path=path)
    if not path.expanduser().resolve().parent.is_dir():
        raise CliError(N_("--db {path}: the folder {folder} does not exist."), path=path, folder=path.parent)


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
