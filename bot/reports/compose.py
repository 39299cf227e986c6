"""The report of one day in one language: the brief's sections, each filled from the day's facts.

A pure function of the facts (and so of the database and the date): the same day gives the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.i18n import Translator
from bot.reports.day import Day, RehearsalFact
from bot.reports.formats import Formats
from bot.reports.model import Item, Line, Piece, Report, Section, line
from bot.reports.settings import ReportsConfig
from bot.reports.work import NameOf, case_lines, work_items
from storage.reports import NEXT, PROBLEM, REF

MAX_REASONS = 5


@dataclass(frozen=True)
class Byline:
    """Who the report is by: iris.yml's `reports.author`, else whoever asked for it (a Slack user);
    and the stage and keywords given on the command, which win over iris.yml's."""

    author: str | None = None
    user: str | None = None
    stage: str | None = None
    keywords: tuple[str, ...] = ()


def compose(
    day: Day, t: Translator, zone: str, settings: ReportsConfig, byline: Byline, name_of: NameOf
) -> Report:
    f = Formats(t, zone)
    header = _header(day, f, settings, byline, name_of)
    if day.quiet and not day.steps:
        quiet = t("Nothing was recorded on {date}.", date=f.long_date(day.day))
        return Report(day.day, t.lang, t("Daily report"), header, (), quiet, {"quiet": True})
    sections = (
        Section(
            t("Background and goal"),
            tuple(Item(line(n.text)) for n in day.notes_of("goal")),
            empty=t("No goal was noted."),
        ),
        Section(
            t("Work done"),
            tuple(work_items(day, f, name_of)),
            numbered=True,
            empty=t("Nothing was recorded."),
        ),
        Section(t("Results and figures"), tuple(_results(day, f)), empty=t("Nothing was measured.")),
        Section(t("Problems and responses"), tuple(_problems(day, f)), empty=t("No problem was recorded.")),
        Section(
            t("Next steps"), tuple(_next_steps(day, f)), numbered=True, empty=t("Nothing is planned yet.")
        ),
        Section(t("References"), tuple(_references(day, t)), numbered=True, empty=t("None.")),
    )
    return Report(day.day, t.lang, t("Daily report"), header, sections, None, figures(day))


def _header(
    day: Day, f: Formats, settings: ReportsConfig, byline: Byline, name_of: NameOf
) -> tuple[tuple[str, Line], ...]:
    t = f.t
    header: list[tuple[str, Line]] = [(t("Date"), line(f.long_date(day.day)))]
    if settings.author or byline.author:
        header.append((t("Author"), line(settings.author or byline.author or "")))
    elif byline.user:
        header.append((t("Author"), (Piece(name_of(byline.user), user=byline.user),)))
    if settings.reviewer:
        header.append((t("Reviewed by"), line(settings.reviewer)))
    stage = byline.stage or settings.stage
    if stage:
        header.append((t("Stage"), line(stage)))
    keywords = byline.keywords or settings.keywords
    if keywords:
        header.append((t("Keywords"), line(", ".join(keywords))))
    return tuple(header)


def figures(day: Day) -> dict[str, Any]:
    """The day's numbers, as the report states them; also the JSON form's `figures`."""
    judged = [r for r in day.rehearsals if r.verdict is not None]
    runs = sum(len(r.summary.get("runs") or []) for r in judged)
    recovered = sum(int(r.summary.get("recovered") or 0) for r in judged)
    weighted = [
        (r.summary["recovery_mean"], int(r.summary.get("recovered") or 0))
        for r in judged
        if r.summary.get("recovery_mean") is not None
    ]
    total_weight = sum(weight for _, weight in weighted)
    return {
        "rehearsals": len(day.rehearsals),
        "rehearsal_runs": runs,
        "rehearsal_runs_recovered": recovered,
        "success_rate": recovered / runs if runs else None,
        "recovery_mean": sum(m * w for m, w in weighted) / total_weight if total_weight else None,
        # A test still running has no result yet: it is told as running, and counted once it ends.
        "alert_tests_passed": sum(run.passed for run in day.alert_tests if run.finished),
        "alert_tests_total": sum(run.total for run in day.alert_tests if run.finished),
        "checklist_items": {
            **{c.label: c.total for c in day.checklists},
            **{f"{tp.name} v{tp.version}": tp.items for tp in day.templates},
        },
        "briefings_held": sum(1 for b in day.briefings if b.kind == "briefing"),
        "alert_groups_fired": len(day.incidents),
        "notes": len(day.notes),
    }


def _results(day: Day, f: Formats) -> list[Item]:
    t, found = f.t, figures(day)
    items = []
    if found["rehearsal_runs"]:
        head = line(t("Rehearsal success rate") + ": ", Piece(f.percent(found["success_rate"]), strong=True))
        runs = t(
            "{recovered} of {runs} runs",
            recovered=found["rehearsal_runs_recovered"],
            runs=found["rehearsal_runs"],
        )
        mean = found["recovery_mean"]
        tail = f" ({runs})" + (", " + t("mean recovery") + " " if mean is not None else "")
        items.append(
            Item((*head, Piece(tail), *((Piece(f.duration(mean), strong=True),) if mean is not None else ())))
        )
    if found["alert_tests_total"]:
        passed = t(
            "{passed} of {total} passed", passed=found["alert_tests_passed"], total=found["alert_tests_total"]
        )
        items.append(Item(line(t("Alert tests") + ": ", Piece(passed, strong=True))))
    for label, size in found["checklist_items"].items():
        items.append(
            Item(line(t("Checklist {label}", label=label) + ": ", Piece(t("{n} items", n=size), strong=True)))
        )
    if found["briefings_held"]:
        items.append(
            Item(line(t("Briefings held") + ": ", Piece(f.number(found["briefings_held"]), strong=True)))
        )
    if found["alert_groups_fired"]:
        items.append(
            Item(
                line(
                    t("Alert groups fired") + ": ", Piece(f.number(found["alert_groups_fired"]), strong=True)
                )
            )
        )
    return items


def _problems(day: Day, f: Formats) -> list[Item]:
    t = f.t
    items = []
    for note in day.notes_of(PROBLEM):
        response = (" — " + t("response") + ": " + note.response) if note.response else ""
        items.append(Item(line(note.text + response)))
    items += [
        _failed_rehearsal(r, f) for r in day.rehearsals if r.verdict in ("fail", "inconclusive") or _broke(r)
    ]
    for run in day.alert_tests:
        failed = run.total - run.passed - run.skipped
        if run.finished and failed:
            head = t(
                "Alert test {run}: {failed} of {total} failed", run=run.run_id, failed=failed, total=run.total
            )
            items.append(Item(line(head), tuple(line(text) for text in case_lines(run, f) if text)))
    return items


def _broke(r: RehearsalFact) -> bool:
    return r.verdict is None and r.status in ("failed", "aborted", "interrupted")


def _failed_rehearsal(r: RehearsalFact, f: Formats) -> Item:
    t = f.t
    ended = t(r.verdict) if r.verdict else t(r.status)
    reasons = [str(reason) for reason in (r.summary.get("reasons") or r.summary.get("notes") or [])]
    head = line(t("Rehearsal of {scenario} ended {verdict}", scenario=r.scenario, verdict=ended))
    return Item(head, tuple(line(reason) for reason in reasons[:MAX_REASONS]))


def _next_steps(day: Day, f: Formats) -> list[Item]:
    t = f.t
    items = []
    for step in sorted(day.steps, key=lambda s: (s.at, s.title)):
        when = f"{f.short_date(f.day_of(step.at))} {f.clock(step.at)}"
        kind = " " + t("(milestone)") if step.kind == "milestone" else ""
        items.append(Item(line(Piece(when, strong=True), ": " + step.title + kind)))
    items += [Item(line(note.text)) for note in day.notes_of(NEXT)]
    return items


def _references(day: Day, t: Translator) -> list[Item]:
    items = [Item((Piece(ref.label, url=ref.url),)) for ref in day.references]
    # An alert test's results went privately to whoever ran it; its run id heads that reply.
    items += [
        Item(
            line(
                t(
                    "alert-test {run}: {passed} of {total} passed",
                    run=r.run_id,
                    passed=r.passed,
                    total=r.total,
                )
            )
        )
        for r in day.alert_tests
        if r.finished
    ]
    for note in day.notes_of(REF):
        url = note.text if note.text.startswith(("https://", "http://")) and " " not in note.text else None
        items.append(Item((Piece(note.text, url=url),)))
    return items
