"""`iris demo --tour` runs to the end unattended, and each step it narrates is in the stand-in's record."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.demo.conftest import Demo, ready, started_demo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OPS, INCIDENTS, RELEASE, REPORTS = "C0DEMOOPS", "C0DEMOINC", "C0DEMOREL", "C0DEMOREP"
YOU, ONCALL = "U0DEMOYOU", "U0ONCALL1"


def _top(record: dict, channel: str) -> list[dict]:
    return [m for m in record["messages"] if m["channel"] == channel and not m["thread_ts"]]


def _replies(record: dict, parent: dict) -> list[dict]:
    return [m for m in record["messages"] if m["thread_ts"] == parent["ts"]]


def _files(record: dict, channel: str) -> list[str]:
    return [f["name"] for f in record["files"] if f["channel"] == channel and f["size"] > 0]


def test_the_tour_runs_to_the_end_and_every_step_is_in_the_record(
    demo_factory: list[Demo], tmp_path: Path
) -> None:
    demo = started_demo(demo_factory, tmp_path, "--tour")
    ready(demo)
    demo.wait_for_line("tour finished", timeout=300)
    narrated = [line for line in demo.lines if "tour " in line and "/11:" in line]
    assert len(narrated) == 11
    assert not any("✗" in line for line in demo.lines)
    record = demo.record()

    # 1, 2: /iris help and the briefing's answer, to their reader only
    mine = [e for e in record["ephemerals"] if e["channel"] == OPS and e["user"] == YOU]
    assert mine[0]["text"].startswith("IRIS commands")
    assert "Cross-team briefing" in mine[1]["text"]
    # 3-5: the checklist: two signed, one N/A with its reason
    checklist = next(m for m in _top(record, RELEASE) if m["text"].startswith("Checklist 1:"))
    assert "3/15 done: 2 signed, 1 N/A" in checklist["text"]
    assert "No APM change in this release" in str(checklist["blocks"])
    assert checklist["edits"] >= 3
    # 6: the rehearsal's verdict with its timeline chart and journal in the thread
    rehearsal = next(m for m in _top(record, RELEASE) if "automation-v1.2" in m["text"])
    assert "completed, verdict *pass*" in rehearsal["text"]
    assert any(name.endswith("-timeline.png") for name in _files(record, RELEASE))
    # 7, 8: one message for the alert group, its resolution in the thread
    (group,) = [m for m in _top(record, INCIDENTS) if "RetryBurst" in m["text"]]
    assert group["edits"] >= 1
    assert any("resolved" in reply["text"] for reply in _replies(record, group))
    # 9: alert-test's results to the on-call person
    results = [e for e in record["ephemerals"] if e["user"] == ONCALL and "alert tests passed" in e["text"]]
    assert results
    # 10: the report in #reports with both files
    assert any(m["text"] for m in _top(record, REPORTS))
    assert {Path(name).suffix for name in _files(record, REPORTS)} >= {".md", ".html"}
    # 11: the briefing's reminder
    assert any("Cross-team briefing" in m["text"] + str(m["blocks"]) for m in _top(record, OPS))
    assert demo.stop() == 0
