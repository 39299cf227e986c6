"""The report's sections from a day's records, on SQLite and PostgreSQL: each section's rules."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from bot.reports.model import Item, Report, Section
from bot.reports.render import render_markdown
from tests.reports.conftest import DAY, Recorder, at, report_of, service


def _texts(section: Section) -> list[str]:
    return ["".join(p.text for p in item.line) for item in section.items]


def _children(item: Item) -> list[str]:
    return ["".join(p.text for p in child) for child in item.children]


def _section(report: Report, title: str) -> Section:
    return next(section for section in report.sections if section.title == title)


def test_a_day_with_nothing_recorded_says_so_in_a_short_report(engine: Engine) -> None:
    report = report_of(engine)
    assert report.quiet == "Nothing was recorded on Thu 12 Dec 2024." and report.sections == ()
    assert [label for label, _ in report.header] == ["Date", "Author", "Reviewed by", "Stage", "Keywords"]
    markdown = render_markdown(report)
    assert "Nothing was recorded on Thu 12 Dec 2024." in markdown and "## " not in markdown


def test_a_rehearsal_is_told_with_its_runs_faults_verdict_and_evidence(
    engine: Engine, recorder: Recorder
) -> None:
    checks = [
        {"kind": "alerts", "ok": True},
        {"kind": "elasticsearch", "ok": True},
        {"kind": "prometheus", "ok": True},
    ]
    recorder.rehearsal(at(10), evidence=checks)
    report = report_of(engine)
    [item] = _section(report, "Work done").items
    assert "".join(p.text for p in item.line) == "Rehearsal of automation-v1.2 (qa)"
    assert _children(item) == [
        "5 runs; gw-timeout injected 10×",
        "verdict: pass, 5 of 5 runs recovered",
        "back-off as declared in 10 of 10 retries",
        "Slack incident alerts, Elasticsearch, Prometheus agree with the ledger",
    ]
    assert _texts(_section(report, "Results and figures")) == [
        "Rehearsal success rate: 100% (5 of 5 runs), mean recovery 3 min 05 s"
    ]
    assert report.figures["success_rate"] == 1.0 and report.figures["recovery_mean"] == 185.2


def test_failed_and_inconclusive_rehearsals_and_failed_alert_tests_become_problems(
    engine: Engine, recorder: Recorder
) -> None:
    recorder.note("problem", "APM index saturated in QA", "retention cut to 7 days until 16 Dec")
    recorder.rehearsal(at(10), verdict="fail", recovered=3, reasons=["run 2: exit code 2, expected 0"])
    recorder.rehearsal(at(11), verdict="inconclusive", reasons=["Prometheus could not be reached"])
    recorder.rehearsal(at(12), verdict="pass")
    recorder.alert_test(at(13), ["pass"] * 6 + ["fail", "pass"])
    problems = _section(report_of(engine), "Problems and responses")
    assert _texts(problems) == [
        "APM index saturated in QA — response: retention cut to 7 days until 16 Dec",
        "Rehearsal of automation-v1.2 ended fail",
        "Rehearsal of automation-v1.2 ended inconclusive",
        "Alert test 00000001: 1 of 8 failed",
    ]
    assert _children(problems.items[1]) == ["run 2: exit code 2, expected 0"]
    assert _children(problems.items[3]) == ["failed: a silence suppresses the next notification"]
    results = _texts(_section(report_of(engine), "Results and figures"))
    assert results[0].startswith("Rehearsal success rate: 87% (13 of 15 runs)")
    assert results[1] == "Alert tests: 7 of 8 passed"


def test_next_steps_are_the_coming_weeks_briefings_and_milestones_in_date_order_then_notes(
    engine: Engine, recorder: Recorder
) -> None:
    recorder.briefing(at(10, day=DAY + timedelta(days=5)), "Production deploy", kind="milestone", fired=False)
    recorder.briefing(at(14, day=DAY + timedelta(days=1)), "Team training", fired=False)
    recorder.briefing(at(9, day=DAY + timedelta(days=4)), "IRIS line-lead meeting", fired=False)
    recorder.briefing(at(9, day=DAY + timedelta(days=9)), "Too far ahead", fired=False)
    recorder.briefing(at(9, day=DAY - timedelta(days=1)), "Already past", fired=False)
    recorder.note("next", "Review the dashboards with the QA team")
    steps = _texts(_section(report_of(engine), "Next steps"))
    assert steps == [
        "13 Dec 14:00: Team training",
        "16 Dec 09:00: IRIS line-lead meeting",
        "17 Dec 10:00: Production deploy (milestone)",
        "Review the dashboards with the QA team",
    ]


def test_a_rehearsal_that_ran_across_midnight_belongs_to_the_day_it_started(
    engine: Engine, recorder: Recorder
) -> None:
    recorder.rehearsal(at(23, 50))  # ends 16 minutes later, on the 13th
    assert len(_section(report_of(engine), "Work done").items) == 1
    assert report_of(engine, day=DAY + timedelta(days=1)).quiet is not None


def test_briefings_held_checklists_templates_and_incidents_of_the_day(
    engine: Engine, recorder: Recorder
) -> None:
    answers = {"U1": "attending", "U2": "attending", "U3": "absent"}
    recorder.briefing(at(16), attendees=("U1", "U2", "U3"), answers=answers, done=True)
    recorder.briefing(at(18), "Release cut", kind="milestone")
    recorder.template(
        at(9),
        "1.2",
        15,
        {"from": "1.1", "from_items": 12, "added": ["a", "b"], "removed": ["c"], "reworded": [["d", "d2"]]},
    )
    recorder.checklist(at(10), done=7)
    recorder.checklist(at(11), done=15, approved_by="UAPPROVER")
    recorder.incident(at(3), "HighLatency", alerts=4, resolved=at(3, 14))
    recorder.incident(at(5), "DiskFull", alerts=1)
    test_labels = {"alertname": "Probe", "iris_alert_test": "ab12"}  # an alert test's own group: no incident
    recorder.incident(at(6), "Probe", labels=test_labels)
    work = _section(report_of(engine), "Work done")
    assert _texts(work) == [
        "Checklist template automation-patch v1.2: 12 → 15 items (since v1.1)",
        "Checklist automation-patch v1.2 (2024-12-17): started, 7 of 15 items done",
        "Checklist automation-patch v1.2 (2024-12-17): completed, approved by name-of-UAPPROVER, "
        "15 of 15 items done",
        "Cross-team briefing at 16:00: 2 attending, 1 absent: recording sent",
        "Milestone: Release cut: reached at 18:00",
        "Incident alerts: 2 alert groups fired",
    ]
    assert _children(work.items[0]) == ["added: a; b", "removed: c", "reworded: d2"]
    assert _children(work.items[5]) == [
        "HighLatency at 03:00: 4 alerts, resolved after 14 min 00 s",
        "DiskFull at 05:00: 1 alert, still firing",
    ]


def test_the_report_is_a_pure_function_of_the_database_and_the_day(
    engine: Engine, recorder: Recorder
) -> None:
    recorder.rehearsal(at(10))
    recorder.note("goal", "Rehearse before production")
    first = render_markdown(report_of(engine))
    later = service(engine, now=at(23, 59)).report(DAY, "en")
    assert render_markdown(later) == first
    assert render_markdown(report_of(engine, "ko")) == render_markdown(report_of(engine, "ko"))


def test_an_alert_test_names_why_a_case_failed_or_was_skipped_and_is_among_the_references(
    engine: Engine, recorder: Recorder
) -> None:
    details = {1: "the group kept 1 alert, expected 2", 6: "needs IRIS_ALERTMANAGER_URL"}
    recorder.alert_test(at(13), ["pass", "fail", "pass", "pass", "pass", "pass", "skip", "pass"], details)
    for lang, work, reference in (
        (
            "en",
            [
                "failed: a second alert joins the group — the group kept 1 alert, expected 2",
                "skipped: a silence suppresses the next notification — needs IRIS_ALERTMANAGER_URL",
            ],
            "alert-test 00000001: 6 of 8 passed",
        ),
        (
            "ko",
            [
                "실패: 두 번째 알림이 같은 그룹에 합류한다 — the group kept 1 alert, expected 2",
                "건너뜀: 음소거가 다음 알림을 막는다 — IRIS_ALERTMANAGER_URL이 필요합니다",
            ],
            "alert-test 00000001: 8건 중 6건 통과",
        ),
    ):
        report = report_of(engine, lang)
        [work_item] = report.sections[1].items
        assert _children(work_item) == work
        assert _texts(report.sections[-1]) == [reference]


def test_references_are_the_days_journals_and_exports_linked_to_their_threads(
    engine: Engine, recorder: Recorder
) -> None:
    late_thread = recorder.message("C0OPS", "1734018420.000100")
    early_thread = recorder.message("C0OPS", None)  # never delivered: no link to give
    late = recorder.rehearsal(at(23, 47), message_id=late_thread)
    early = recorder.rehearsal(at(9), message_id=early_thread)
    recorder.upload(late_thread, f"{late}-timeline-run1.png", at(23, 59), "rehearsal", b"\x89PNG" * 50_000)
    recorder.upload(late_thread, f"{late}-journal.json", at(0, 3, DAY + timedelta(days=1)), "rehearsal")
    recorder.upload(early_thread, f"{early}-journal.json", at(9, 20), "rehearsal")
    checklist_thread = recorder.message("C0REL", "1733990000.000200")
    recorder.upload(checklist_thread, "checklist-7-automation-patch.md", at(17), "checklist")
    recorder.upload(
        checklist_thread, "checklist-8-automation-patch.md", at(0, 30, DAY + timedelta(days=1)), "checklist"
    )
    references = _section(report_of(engine), "References")
    # The late rehearsal's journal was uploaded after midnight: it is still this day's.
    assert [(item.line[0].text, item.line[0].url) for item in references.items] == [
        (f"{late}-journal.json", "https://slack.com/archives/C0OPS/p1734018420000100"),
        (f"{early}-journal.json", None),
        ("checklist-7-automation-patch.md", "https://slack.com/archives/C0REL/p1733990000000200"),
    ]
    next_day = report_of(engine, day=DAY + timedelta(days=1))
    assert _texts(_section(next_day, "References")) == ["checklist-8-automation-patch.md"]


def test_an_alert_test_still_running_is_told_as_running_and_not_counted(
    engine: Engine, recorder: Recorder
) -> None:
    recorder.alert_test(at(13), ["pass"] * 8)
    recorder.alert_test(at(18), ["pass", "pass", "fail"], running=True)
    report = report_of(engine)
    assert _texts(_section(report, "Work done")) == [
        "Alert rule tests: 8 of 8 passed (through Alertmanager)",
        "Alert rule tests: still running (through Alertmanager)",
    ]
    assert (report.figures["alert_tests_passed"], report.figures["alert_tests_total"]) == (8, 8)
    assert _texts(_section(report, "Problems and responses")) == []
