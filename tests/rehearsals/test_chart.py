"""The timeline chart: a real PNG of the expected size, growing with the runs, capped, deterministic."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from bot.rehearsals.analysis import analyse_run, judge
from bot.rehearsals.chart import MAX_RUNS, WIDTH, render_timeline
from bot.rehearsals.ledger import LedgerEntry
from bot.rehearsals.runner import RehearsalResult
from bot.rehearsals.scenario import parse_scenario

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UPSTREAM_LATENCY = 0.25

# The brief's rehearsal: 504 injected on attempts 1 and 2 of POST /v1/jobs, exponential back-off from 1 s.
SCENARIO = parse_scenario(
    """
name: automation-v1.2
runs: 50
target: {command: ["python3", "automation.py", "--env", "qa"], timeout: 10m}
upstream: http://qa-api.internal:8080
faults:
  - id: gw-timeout
    match: {method: POST, path: "/v1/jobs*"}
    respond: {status: 504, body: "injected by IRIS"}
    when: {attempts: [1, 2]}
expect:
  retry:
    on: [502, 503, 504]
    max_attempts: 4
    backoff: {base: 1s, factor: 2, max: 30s, jitter: none, first_retry: nominal}
    tolerance: {abs: 250ms, rel: 0.10}
success: {success_rate: 1.0}
""",
    Path("automation-v1.2.yml"),
)

Hit = tuple[int, float]  # the status answered, and how long the client waited before sending the request


def ledger(run: int, hits: list[Hit], start: float, fault: str | None = "gw-timeout") -> list[LedgerEntry]:
    """The proxy's entries for one client's successive requests, each sent `wait` after the last answer."""
    entries, answered = [], start
    for attempt, (status, wait) in enumerate(hits, start=1):
        injected = fault is not None and status == 504
        received = answered + wait
        answered = received if injected else received + UPSTREAM_LATENCY
        entries.append(
            LedgerEntry(
                run,
                fault,
                attempt if fault else None,
                "POST",
                "/v1/jobs",
                received,
                answered,
                status,
                injected,
                None,
                None if injected else UPSTREAM_LATENCY,
                None,
            )
        )
    return entries


TEXTBOOK: list[Hit] = [(504, 0.0), (504, 1.01), (201, 2.02)]
NO_WAIT: list[Hit] = [(504, 0.0), (504, 0.02), (201, 0.02)]
LONG_WAIT: list[Hit] = [(504, 0.0), (504, 1.0), (201, 30.0)]  # a 30 s gap beside a 1 s one


def rehearsal(*runs: list[Hit], status: str = "completed") -> RehearsalResult:
    results, journal = [], []
    for number, hits in enumerate(runs, start=1):
        entries = ledger(number, hits, start=1000.0 * number)
        results.append(analyse_run(SCENARIO, number, entries, exit_code=0, timed_out=False))
        journal += [entry.to_dict() for entry in entries]
    verdict = judge(SCENARIO, results) if results else None
    return RehearsalResult(SCENARIO.name, "r-0a1b2c3d", status, verdict, results, journal, 0.0, 60.0)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    length, kind, width, height = struct.unpack(">I4sII", png[8:24])
    assert (length, kind) == (13, b"IHDR")  # the first chunk of every PNG
    return width, height


def test_a_rehearsal_renders_as_a_png_of_the_announced_size() -> None:
    png = render_timeline(rehearsal(TEXTBOOK, NO_WAIT, LONG_WAIT))
    assert png_size(png) == (WIDTH, 200 + 80 * 3)
    with Image.open(io.BytesIO(png)) as image:
        image.verify()  # every chunk's CRC and the image data decode


def test_the_chart_grows_by_one_lane_per_run() -> None:
    heights = [png_size(render_timeline(rehearsal(*[TEXTBOOK] * n)))[1] for n in (1, 2, 5)]
    assert heights == [280, 360, 600]


def test_beyond_thirty_runs_only_the_first_thirty_are_drawn() -> None:
    capped = png_size(render_timeline(rehearsal(*[TEXTBOOK] * (MAX_RUNS + 12))))
    assert capped == png_size(render_timeline(rehearsal(*[TEXTBOOK] * MAX_RUNS))) == (WIDTH, 200 + 80 * 30)


def test_the_capped_chart_says_runs_were_left_out() -> None:
    capped = render_timeline(rehearsal(*[TEXTBOOK] * (MAX_RUNS + 1)))
    assert capped != render_timeline(rehearsal(*[TEXTBOOK] * MAX_RUNS))


def test_the_same_rehearsal_renders_to_the_same_bytes() -> None:
    assert render_timeline(rehearsal(TEXTBOOK, NO_WAIT)) == render_timeline(rehearsal(TEXTBOOK, NO_WAIT))


def test_the_journal_order_does_not_change_the_chart() -> None:
    result = rehearsal(TEXTBOOK, LONG_WAIT)
    shuffled = replace(result, journal=list(reversed(result.journal)))
    assert render_timeline(shuffled) == render_timeline(result)


def test_a_rehearsal_without_runs_renders_a_small_notice() -> None:
    result = rehearsal(status="aborted")
    result.notes.append("aborted during run 1 of 5")
    width, height = png_size(render_timeline(result))
    assert width <= WIDTH and height < 200


def test_runs_without_faulted_requests_or_without_requests_still_render() -> None:
    unfaulted = ledger(1, [(200, 0.0), (200, 0.5)], start=10.0, fault=None)
    results = [analyse_run(SCENARIO, 1, unfaulted, 0, False), analyse_run(SCENARIO, 2, [], 0, False)]
    result = RehearsalResult(
        SCENARIO.name,
        "r-1",
        "completed",
        judge(SCENARIO, results),
        results,
        [entry.to_dict() for entry in unfaulted],
        0.0,
        1.0,
    )
    assert png_size(render_timeline(result)) == (WIDTH, 200 + 80 * 2)


def test_another_process_renders_the_same_bytes() -> None:
    code = (
        "import sys, hashlib; from tests.rehearsals.test_chart import *; "
        "sys.stdout.write(hashlib.sha256(render_timeline(rehearsal(TEXTBOOK, LONG_WAIT))).hexdigest())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONHASHSEED": "12345"},
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout == hashlib.sha256(render_timeline(rehearsal(TEXTBOOK, LONG_WAIT))).hexdigest()


def red_pixels(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB").tobytes()
    return sum(1 for i in range(0, len(rgb), 3) if rgb[i] > 180 and rgb[i + 1] < 90 and rgb[i + 2] < 100)


def test_gaps_out_of_bounds_are_drawn_in_red() -> None:
    within, without = render_timeline(rehearsal(TEXTBOOK)), render_timeline(rehearsal(NO_WAIT))
    slow = render_timeline(rehearsal([(504, 0.0), (504, 1.0), (201, 5.0)]))  # same shape, last gap too long
    assert red_pixels(slow) > red_pixels(within) + 2000
    assert red_pixels(without) > red_pixels(within)  # the failed run's reason, at least


def test_characters_the_font_lacks_are_drawn_as_their_nearest_ascii() -> None:
    result = rehearsal(TEXTBOOK)
    assert render_timeline(replace(result, scenario="café–run")) == render_timeline(
        replace(result, scenario="cafe-run")
    )


def test_importing_the_chart_does_not_import_pillow() -> None:
    code = "import sys, bot.rehearsals.chart; print('PIL' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("hits", [TEXTBOOK, LONG_WAIT, NO_WAIT], ids=["textbook", "long", "no-wait"])
def test_one_run_of_any_shape_renders(hits: list[Hit]) -> None:
    assert png_size(render_timeline(rehearsal(hits)))[0] == WIDTH
