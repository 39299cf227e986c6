"""`iris checklist verify <id>` and `iris checklist check FILE`: the trail and templates from a terminal."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.checklists.template import TemplateError, load_template
from bot.checklists.trail import verify_record
from bot.config import load_settings
from bot.errors import CliError, problems_in_terminal
from bot.i18n import N_
from storage import checklists as repo
from storage.db import read_scope
from storage.migrate import open_for_reading

INTACT, TAMPERED = 0, 1
MAX_ID = 2**63 - 1  # the largest id a database row can have


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    checklist = commands.add_parser("checklist", help=N_("verify a checklist's trail, check a template"))
    checklist_commands = checklist.add_subparsers(dest="checklist_command", required=True, metavar="COMMAND")
    verify = checklist_commands.add_parser(
        "verify", help=N_("recompute the hash chain of a checklist's trail")
    )
    verify.add_argument("id", help=N_("the checklist id, as shown in Slack"))
    verify.set_defaults(run=lambda args: verify_from_terminal(args.id))
    check = checklist_commands.add_parser("check", help=N_("validate a checklist template file"))
    check.add_argument("file", type=Path, help=N_("the template (Markdown)"))
    check.set_defaults(run=lambda args: check_from_terminal(args.file))


def verify_from_terminal(checklist_id: str) -> int:
    """Exit 0 when the trail is intact, 1 naming the first altered or removed event, 2 on bad input."""
    if not (checklist_id.isascii() and checklist_id.isdigit()):
        raise CliError(
            N_("{id!r} is not a checklist id (a number, as in /iris checklist show 7)."), id=checklist_id
        )
    if int(checklist_id) > MAX_ID:
        raise CliError(N_("There is no checklist {id}."), id=checklist_id)
    url = load_settings().iris_database_url
    engine = open_for_reading(url)
    with read_scope(engine) as session:
        checklist = repo.get(session, int(checklist_id))
        events = repo.events(session, int(checklist_id)) if checklist else []
        signoffs = repo.signoffs(session, int(checklist_id)) if checklist else []
    engine.dispose()
    if checklist is None:
        raise CliError(N_("There is no checklist {id}."), id=checklist_id)
    standing = {s.position: (s.kind, s.user_id) for s in signoffs if s.undone_at is None}
    result = verify_record(events, checklist.events, checklist.head_hash, standing)
    print(f"checklist {checklist_id} ({checklist.name} v{checklist.version}): {result.sentence()}")
    return INTACT if result.intact else TAMPERED


def check_from_terminal(path: Path) -> int:
    """Exit 0 for a template that parses (its items listed), 2 with every problem and its line."""
    try:
        template = load_template(path)
    except TemplateError as exc:
        return problems_in_terminal(f"iris: {path} is not a valid checklist template:", exc.errors)
    print(
        f"{template.label}: {len(template.items)} items in {len(template.sections)} sections, "
        f"content hash {template.content_hash[:12]}"
    )
    for item in template.items:
        marks = (" (approval)" if item.approval else "") + (f" (owner: {item.owner})" if item.owner else "")
        print(f"  {item.position:>3}. [{item.section}] {item.text}{marks}")
    return INTACT
