"""The Markdown record of a checklist: every item, who and when, notes, N/A reasons, approval, the trail."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.checklists.service import Record
from bot.checklists.state import ItemState
from bot.checklists.trail import detail_of
from storage.checklists import ChecklistEvent


def export_markdown(record: Record, timezone: str) -> str:
    zone = ZoneInfo(timezone)
    state, checklist = record.state, record.state.checklist
    lines = [
        f"# {_plain(checklist.title)}",
        "",
        f"- Template: {state.label} (content hash {_template_hash(record)})",
        f"- Release: {_plain(checklist.release) or '(none given)'}",
        f"- Checklist: {state.id}, channel {checklist.channel_id}",
        f"- Started: {_when(checklist.started_at, zone)} by @{checklist.started_by}",
        f"- Progress: {state.done}/{state.total} done ({state.signed} signed, "
        f"{state.not_applicable} not applicable)",
        f"- Status: {_status(record, zone)}",
        f"- Trail: {record.verification.sentence()}",
        "",
    ]
    section = None
    for item in state.items:
        if item.section != section:
            section = item.section
            lines += (
                [f"## {_plain(section)}", ""]
                if section == state.items[0].section
                else ["", f"## {_plain(section)}", ""]
            )
        lines += _item_lines(item, zone) + _undone_lines(record, item.position, zone)
    lines += ["", "## Trail", "", "| # | time | who | event | detail | hash |", "|---|---|---|---|---|---|"]
    lines += [_event_row(event, zone) for event in record.events]
    return "\n".join(lines) + "\n"


def _template_hash(record: Record) -> str:
    start = record.events[0] if record.events else None
    return str(detail_of(start).get("hash", "?"))[:12] if start and start.kind == "start" else "?"


def _undone_lines(record: Record, position: int, zone: ZoneInfo) -> list[str]:
    """Undone sign-offs stay in the record: who signed, and who undid it when."""
    return [
        f"  - undone: {'N/A' if s.kind == 'na' else 'signed'} by @{s.user_id}, {_when(s.at, zone)}; "
        f"undone by @{s.undone_by}, {_when(s.undone_at, zone)}"
        for s in record.signoffs
        if s.position == position and s.undone_at is not None
    ]


def _status(record: Record, zone: ZoneInfo) -> str:
    checklist = record.state.checklist
    if checklist.status != "complete" or checklist.completed_at is None:
        return "open"
    approved = f", approved by @{checklist.approved_by}" if checklist.approved_by else ""
    return f"complete {_when(checklist.completed_at, zone)}{approved}"


def _item_lines(item: ItemState, zone: ZoneInfo) -> list[str]:
    box = "x" if item.standing and item.standing.kind == "sign" else ("-" if item.standing else " ")
    marks = " (approval)" if item.approval else ""
    marks += f" (owner: {item.owner})" if item.owner else ""
    head = f"- [{box}] {item.position}. {_plain(item.text)}{marks}"
    standing = item.standing
    if standing is None:
        head += " — open"
    elif standing.kind == "sign":
        verb = "approved" if item.approval else "signed"
        head += f" — {verb} by @{standing.user_id}, {_when(standing.at, zone)}"
    else:
        head += (
            f" — not applicable, @{standing.user_id}, {_when(standing.at, zone)}: "
            f"{_plain(standing.reason or '')}"
        )
    notes = [f"  - note by @{n.user_id}, {_when(n.at, zone)}: {_plain(n.text)}" for n in item.notes]
    return [head, *notes]


def _event_row(event: ChecklistEvent, zone: ZoneInfo) -> str:
    detail = detail_of(event)
    shown = "; ".join(f"{key}: {value}" for key, value in detail.items() if key != "item")
    what = event.kind if event.position is None else f"{event.kind}, item {event.position}"
    return (
        f"| {event.seq} | {_when(event.at, zone)} | @{event.actor} | {what} | "
        f"{_cell(shown)} | `{event.hash[:12]}` |"
    )


def _when(moment: datetime, zone: ZoneInfo) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _plain(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _plain(text).replace("|", "\\|")
