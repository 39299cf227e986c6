"""Section 2 of the report, "Work done": one numbered item per activity of the day, with its details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.i18n import N_, Translator
from bot.reports.day import (
    AlertTestFact,
    BriefingFact,
    ChecklistFact,
    Day,
    IncidentFact,
    RehearsalFact,
    TemplateFact,
)
from bot.reports.formats import Formats
from bot.reports.model import Item, Line, Piece, line

NameOf = Callable[[str], str]  # a Slack user ID → the name a written report shows
TOP_INCIDENTS = 3
MAX_ITEM_TEXTS = 5  # template items named per kind of change
# Words the engine stores in English and the report translates.
VERDICTS = (N_("pass"), N_("fail"), N_("inconclusive"))
ENDINGS = (N_("completed"), N_("failed"), N_("aborted"), N_("interrupted"), N_("running"))
BACKENDS = {
    "prometheus": N_("Prometheus"),
    "elasticsearch": N_("Elasticsearch"),
    "alerts": N_("Slack incident alerts"),
}


def work_items(day: Day, f: Formats, name_of: NameOf) -> list[Item]:
    items = [rehearsal_item(r, f) for r in day.rehearsals]
    items += [alert_test_item(run, f) for run in day.alert_tests]
    items += [template_item(template, f) for template in day.templates]
    items += [checklist_item(checklist, f, name_of) for checklist in day.checklists]
    items += [briefing_item(briefing, f) for briefing in day.briefings]
    if day.incidents:
        items.append(incidents_item(day.incidents, f))
    items += [Item(line(note.text)) for note in day.notes_of("work")]
    return items


def rehearsal_item(r: RehearsalFact, f: Formats) -> Item:
    t = f.t
    title = [Piece(t("Rehearsal of {scenario}", scenario=r.scenario), strong=True)]
    if r.environment:
        title.append(Piece(f" ({r.environment})"))
    runs = len(r.summary.get("runs") or [])
    faults = ", ".join(
        t("{fault} injected {n}×", fault=fault, n=n) for fault, n in sorted(r.injected.items())
    )
    children = [line(t("{runs} runs", runs=runs) + "; " + (faults or t("no fault was injected")))]
    children.append(_outcome(r, f))
    if r.summary.get("backoff_total"):
        children.append(
            line(
                t(
                    "back-off as declared in {ok} of {total} retries",
                    ok=r.summary["backoff_ok"],
                    total=r.summary["backoff_total"],
                )
            )
        )
    evidence = evidence_line(r, f)
    if evidence:
        children.append(evidence)
    return Item(tuple(title), tuple(children))


def _outcome(r: RehearsalFact, f: Formats) -> Line:
    t = f.t
    if r.verdict is None:
        return line(t("ended {status}", status=t(r.status)))
    recovered, runs = r.summary.get("recovered", 0), len(r.summary.get("runs") or [])
    return line(
        t("verdict") + ": ",
        Piece(t(r.verdict), strong=True),
        ", " + t("{recovered} of {runs} runs recovered", recovered=recovered, runs=runs),
    )


def evidence_line(r: RehearsalFact, f: Formats) -> Line | None:
    """Which outside systems agree with the proxy's ledger: the brief's "Slack, APM and Grafana agree"."""
    checks = (r.summary.get("evidence") or {}).get("checks") or []
    if not checks:
        return None
    t = f.t

    def named(kinds: list[str]) -> str:
        return ", ".join(t(BACKENDS.get(kind, kind)) for kind in dict.fromkeys(kinds))

    agree = [c["kind"] for c in checks if c.get("ok") is True]
    disagree = [c["kind"] for c in checks if c.get("ok") is False]
    unreachable = [c["kind"] for c in checks if c.get("ok") is None]
    parts = []
    if agree:
        parts.append(t("{backends} agree with the ledger", backends=named(agree)))
    if disagree:
        parts.append(t("{backends} disagree with it", backends=named(disagree)))
    if unreachable:
        parts.append(t("{backends} could not be reached", backends=named(unreachable)))
    return line("; ".join(parts))


def alert_test_item(run: AlertTestFact, f: Formats) -> Item:
    t = f.t
    via = t("through Alertmanager") if run.via == "alertmanager" else t("through IRIS's own webhook")
    if not run.finished:
        return Item(line(Piece(t("Alert rule tests"), strong=True), ": " + t("still running") + f" ({via})"))
    head = line(
        Piece(t("Alert rule tests"), strong=True),
        ": ",
        Piece(t("{passed} of {total} passed", passed=run.passed, total=run.total), strong=True),
        f" ({via})",
    )
    return Item(head, tuple(line(text) for text in case_lines(run, f)))


def case_lines(run: AlertTestFact, f: Formats) -> list[str]:
    t = f.t
    lines = [
        _case_line(t("failed: {case}", case=t(r["key"])), r, t)
        for r in run.results
        if r.get("outcome") == "fail"
    ]
    lines += [
        _case_line(t("skipped: {case}", case=t(r["key"])), r, t)
        for r in run.results
        if r.get("outcome") == "skip"
    ]
    return lines


def _case_line(line: str, result: dict[str, Any], t: Translator) -> str:
    """The case and, where the test gave one, why (a message id with its values, translated here)."""
    detail = result.get("detail") or ""
    if not detail:
        return line
    values = {str(k): str(v) for k, v in (result.get("values") or {}).items()}
    return t("{case} — {why}", case=line, why=t(detail, **values))


def template_item(template: TemplateFact, f: Formats) -> Item:
    t = f.t
    title = Piece(
        t("Checklist template {name} v{version}", name=template.name, version=template.version), strong=True
    )
    changes = template.changes
    if changes is None:
        return Item(line(title, ": " + t("{n} items, its first version", n=template.items)))
    head = line(
        title,
        ": ",
        Piece(t("{before} → {after} items", before=changes["from_items"], after=template.items), strong=True),
        " " + t("(since v{version})", version=changes["from"]),
    )
    children = []
    for key, label in (("added", N_("added")), ("removed", N_("removed"))):
        if changes.get(key):
            children.append(line(t(label) + ": " + _some(changes[key], f)))
    if changes.get("reworded"):
        children.append(line(t("reworded") + ": " + _some([new for _, new in changes["reworded"]], f)))
    return Item(head, tuple(children))


def _some(texts: list[str], f: Formats) -> str:
    shown = "; ".join(texts[:MAX_ITEM_TEXTS])
    return shown + (
        " " + f.t("and {n} more", n=len(texts) - MAX_ITEM_TEXTS) if len(texts) > MAX_ITEM_TEXTS else ""
    )


def checklist_item(checklist: ChecklistFact, f: Formats, name_of: NameOf) -> Item:
    t = f.t
    title = [Piece(t("Checklist {label}", label=checklist.label), strong=True)]
    if checklist.release:
        title.append(Piece(f" ({checklist.release})"))
    progress = t("{done} of {total} items done", done=checklist.done, total=checklist.total)
    if checklist.completed and checklist.approved_by:
        state = [Piece(t("completed, approved by") + " "), _person(checklist.approved_by, name_of)]
    elif checklist.completed:
        state = [Piece(t("completed"))]
    else:
        state = [Piece(t("started") if checklist.started_today else t("in progress"))]
    return Item((*title, Piece(": "), *state, Piece(f", {progress}")))


def _person(user: str, name_of: NameOf) -> Piece:
    return Piece(name_of(user), user=user)


def briefing_item(briefing: BriefingFact, f: Formats) -> Item:
    t = f.t
    if briefing.kind == "milestone":
        title = t("Milestone: {title}", title=briefing.title)
        return Item(line(Piece(title, strong=True), ": " + t("reached at {time}", time=f.clock(briefing.at))))
    details = t(
        "{attending} attending, {absent} absent",
        attending=len(briefing.attending),
        absent=len(briefing.absent),
    )
    if briefing.recording_sent:
        details += ": " + t("recording sent")
    return Item(
        line(
            Piece(briefing.title, strong=True),
            " " + t("at {time}", time=f.clock(briefing.at)) + ": " + details,
        )
    )


def incidents_item(incidents: list[IncidentFact], f: Formats) -> Item:
    t = f.t
    fired = t.plural("{n} alert group fired", "{n} alert groups fired", len(incidents))
    top = sorted(incidents, key=lambda i: (-i.alerts, i.fired_at, i.title))[:TOP_INCIDENTS]
    children = [line(_incident(incident, f)) for incident in top]
    if len(incidents) > TOP_INCIDENTS:
        children.append(line(t("and {n} more", n=len(incidents) - TOP_INCIDENTS)))
    return Item(line(Piece(t("Incident alerts"), strong=True), ": " + fired), tuple(children))


def _incident(incident: IncidentFact, f: Formats) -> str:
    t = f.t
    alerts = t.plural("{n} alert", "{n} alerts", incident.alerts)
    if incident.resolved_at is None:
        state = t("still firing")
    else:
        state = t(
            "resolved after {duration}",
            duration=f.duration((incident.resolved_at - incident.fired_at).total_seconds()),
        )
    return t(
        "{title} at {time}: {alerts}, {state}",
        title=incident.title,
        time=f.clock(incident.fired_at),
        alerts=alerts,
        state=state,
    )
