"""The rehearsal's timeline chart as a PNG: one lane per run, every attempt, its gaps, the outcome."""

from __future__ import annotations

import io
import math
import unicodedata
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from bot.durations import format_duration

if TYPE_CHECKING:
    from PIL import ImageFont

    from bot.rehearsals.analysis import GapCheck, RunResult, Verdict
    from bot.rehearsals.runner import RehearsalResult

WIDTH = 1200
LANE_HEIGHT = 80
HEADER_HEIGHT = 120
FOOTER_HEIGHT = 80
MAX_RUNS = 30  # more lanes than this are unreadable in Slack; the chart says how many it left out
PLOT_LEFT, PLOT_RIGHT = 160, WIDTH - 260  # the run label on the left, the outcome on the right
SUPERSAMPLE = 2  # Pillow draws shapes without anti-aliasing: draw twice as large, then scale down

Rgb = tuple[int, int, int]
Entry = dict[str, Any]  # one journal entry, as RehearsalResult.journal holds it
WHITE: Rgb = (255, 255, 255)
INK: Rgb = (33, 37, 41)
MUTED: Rgb = (108, 117, 125)
FAINT: Rgb = (222, 226, 230)
SHADE: Rgb = (246, 247, 249)
RED: Rgb = (214, 40, 57)
GREEN: Rgb = (25, 135, 84)
GREY: Rgb = (134, 142, 150)
AMBER: Rgb = (204, 122, 0)
GAP_OK: Rgb = (32, 160, 100)
OUTCOME_COLOURS: dict[str, Rgb] = {"recovered": GREEN, "failed": RED, "timeout": AMBER}
VERDICT_COLOURS: dict[str, Rgb] = {"pass": GREEN, "fail": RED, "inconclusive": AMBER}
# Pillow's own font has ASCII and a few symbols; anything else would print as a box.
FONT_EXTRAS = frozenset("…±·°")
LOOKALIKES = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "−": "-",
        "×": "x",
        "≤": "<=",
        "≥": ">=",
        "→": "->",
        "µ": "u",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
    }
)


def render_timeline(result: RehearsalResult) -> bytes:
    """The chart for the final summary: about 1200×(200+80·runs) px, at most MAX_RUNS lanes."""
    if not result.runs:
        return _render_empty(result)
    runs = result.runs[:MAX_RUNS]
    journal = sorted(result.journal, key=lambda entry: entry["received_at"])
    lanes = [[entry for entry in journal if entry["run"] == run.run] for run in runs]
    axis = _TimeAxis.fitting(max((_span(entries) for entries in lanes), default=0.0))
    canvas = _Canvas(WIDTH, HEADER_HEIGHT + LANE_HEIGHT * len(runs) + FOOTER_HEIGHT)
    _draw_header(canvas, result, shown=len(runs))
    for index, (run, entries) in enumerate(zip(runs, lanes, strict=True)):
        _draw_lane(canvas, axis, HEADER_HEIGHT + index * LANE_HEIGHT, index, run, entries)
    _draw_axis(canvas, axis, HEADER_HEIGHT + len(runs) * LANE_HEIGHT)
    return canvas.png()


def _render_empty(result: RehearsalResult) -> bytes:
    canvas = _Canvas(800, 140)
    canvas.text(24, 20, result.scenario, 24)
    canvas.text(24, 62, f"no run completed · rehearsal {result.rehearsal_id} {result.status}", 16, MUTED)
    if result.notes:
        canvas.text(24, 92, _shorten(canvas, result.notes[0], 14, 750), 14, MUTED)
    return canvas.png()


class _Canvas:
    """Drawing in final-image pixels on an image SUPERSAMPLE times as large."""

    def __init__(self, width: int, height: int) -> None:
        from PIL import Image, ImageDraw  # noqa: PLC0415  (lazily: importing IRIS must not pay for an image library)

        self.size = (width, height)
        self._image = Image.new("RGB", (width * SUPERSAMPLE, height * SUPERSAMPLE), WHITE)
        self._draw = ImageDraw.Draw(self._image)

    def rect(self, box: tuple[float, float, float, float], fill: Rgb, radius: float = 0) -> None:
        self._draw.rounded_rectangle([v * SUPERSAMPLE for v in box], radius * SUPERSAMPLE, fill=fill)

    def line(self, x0: float, y0: float, x1: float, y1: float, fill: Rgb, width: float = 1) -> None:
        points = [x0 * SUPERSAMPLE, y0 * SUPERSAMPLE, x1 * SUPERSAMPLE, y1 * SUPERSAMPLE]
        self._draw.line(points, fill=fill, width=round(width * SUPERSAMPLE))

    def dot(self, x: float, y: float, radius: float, fill: Rgb) -> None:
        box = [
            (x - radius) * SUPERSAMPLE,
            (y - radius) * SUPERSAMPLE,
            (x + radius) * SUPERSAMPLE,
            (y + radius) * SUPERSAMPLE,
        ]
        self._draw.ellipse(box, fill=fill, outline=WHITE, width=SUPERSAMPLE)

    def text(self, x: float, y: float, text: str, size: int, fill: Rgb = INK, anchor: str = "la") -> float:
        """Draws `text` with its `anchor` (Pillow's two letters) at x, y; returns where it ends."""
        self._draw.text(
            (x * SUPERSAMPLE, y * SUPERSAMPLE), _printable(text), fill=fill, font=_font(size), anchor=anchor
        )
        return x + self.width(text, size)

    def width(self, text: str, size: int) -> float:
        return _font(size).getlength(_printable(text)) / SUPERSAMPLE

    def png(self) -> bytes:
        from PIL import Image  # noqa: PLC0415  (lazily, as above)

        buffer = io.BytesIO()
        self._image.resize(self.size, Image.Resampling.LANCZOS).save(buffer, format="PNG")
        return buffer.getvalue()


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont  # noqa: PLC0415  (lazily, as above)

    # Pillow's own font, the same on every machine, so the chart never depends on installed fonts.
    return ImageFont.load_default(size=size * SUPERSAMPLE)


def _printable(text: str) -> str:
    """`text` in the characters the font has: "1.00–2.00 s" as "1.00-2.00 s", "é" as "e", others as "?"."""
    return "".join(
        char if char.isascii() or char in FONT_EXTRAS else _nearest_ascii(char)
        for char in text.translate(LOOKALIKES)
    )


def _nearest_ascii(char: str) -> str:
    stripped = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return stripped or "?"


@dataclass(frozen=True)
class _TimeAxis:
    """Seconds since a run's first request, on the same scale for every lane."""

    end: float
    step: float

    @classmethod
    def fitting(cls, longest: float) -> _TimeAxis:
        longest = max(longest, 0.1)
        magnitude = 10 ** math.floor(math.log10(longest / 8))
        step = next(m * magnitude for m in (1, 2, 5, 10) if longest / (m * magnitude) <= 8)
        return cls(step * math.ceil(longest / step - 1e-9), step)

    def x(self, seconds: float) -> float:
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * seconds / self.end

    def ticks(self) -> list[float]:
        return [round(i * self.step, 9) for i in range(round(self.end / self.step) + 1)]


class _Labels:
    """Keeps labels from overlapping: each goes on the first of `levels` lines where it fits, or nowhere."""

    def __init__(self, levels: int) -> None:
        self._taken: list[list[tuple[float, float]]] = [[] for _ in range(levels)]

    def place(self, left: float, right: float) -> int | None:
        for level, taken in enumerate(self._taken):
            if all(right + 4 <= start or left >= end + 4 for start, end in taken):
                taken.append((left, right))
                return level
        return None


def _span(entries: list[Entry]) -> float:
    if not entries:
        return 0.0
    return max(entry["responded_at"] for entry in entries) - entries[0]["received_at"]


def _draw_header(canvas: _Canvas, result: RehearsalResult, shown: int) -> None:
    verdict = result.verdict
    end = canvas.text(24, 16, _shorten(canvas, result.scenario, 26, 460), 26)
    kind = verdict.verdict if verdict else "no verdict"
    pill = canvas.width(kind.upper(), 16) + 20
    canvas.rect((end + 14, 17, end + 14 + pill, 45), VERDICT_COLOURS.get(kind, GREY), radius=6)
    canvas.text(end + 24, 31, kind.upper(), 16, WHITE, anchor="lm")
    if verdict is not None:
        canvas.text(end + pill + 30, 31, _success_rate(verdict), 18, anchor="lm")
    if shown < len(result.runs):
        canvas.text(
            WIDTH - 24, 31, f"showing the first {shown} of {len(result.runs)} runs", 15, AMBER, anchor="rm"
        )
    canvas.text(24, 58, " · ".join(_headline(result)), 15, MUTED)
    _draw_legend(canvas, 24, 96)


def _success_rate(verdict: Verdict) -> str:
    return (
        f"success rate {verdict.success_rate * 100:.4g}% ({verdict.recovered}/{verdict.runs} runs recovered)"
    )


def _headline(result: RehearsalResult) -> list[str]:
    parts = [f"rehearsal {result.rehearsal_id} {result.status}"]
    verdict = result.verdict
    if verdict is None:
        return parts
    parts.append(f"{verdict.faults_injected} faults injected")
    if verdict.recovery_mean is not None and verdict.recovery_max is not None:
        parts.append(
            f"recovery mean {format_duration(verdict.recovery_mean)}, "
            f"max {format_duration(verdict.recovery_max)}"
        )
    parts.append(f"back-off gaps in bounds {verdict.backoff_ok}/{verdict.backoff_total}")
    return parts


def _draw_legend(canvas: _Canvas, x: float, y: float) -> None:
    for colour, name, shape in [
        (RED, "injected fault", "dot"),
        (GREEN, "forwarded 2xx", "dot"),
        (GREY, "other status", "dot"),
        (GAP_OK, "gap within bounds", "bar"),
        (RED, "gap out of bounds", "bar"),
        (GREY, "gap not checked", "bar"),
        (GREEN, "time in flight", "line"),
    ]:
        if shape == "dot":
            canvas.dot(x + 6, y, 6, colour)
        else:
            canvas.line(x, y, x + 22, y, colour, 4 if shape == "bar" else 2)
        x = canvas.text(x + (16 if shape == "dot" else 28), y, name, 14, anchor="lm") + 22


def _draw_lane(
    canvas: _Canvas, axis: _TimeAxis, top: float, index: int, run: RunResult, entries: list[Entry]
) -> None:
    _draw_lane_frame(canvas, axis, top, index, run)
    faults, others = _rows(entries)
    if not faults:
        note = "no faulted requests" if entries else "no request reached the proxy"
        canvas.text(PLOT_LEFT + 8, top + 20, note, 14, MUTED, anchor="lm")
    origin = entries[0]["received_at"] if entries else 0.0
    pitch = (LANE_HEIGHT - (22 if others else 0)) / max(len(faults), 1)
    style = _row_style(len(faults), pitch, bool(others))
    checks = {(gap.fault_id, gap.before_attempt): gap for gap in run.gaps}
    named = len(faults) + bool(others) > 1
    for number, (fault, tries) in enumerate(faults):
        y = top + pitch * (number + 0.5)
        _Row(canvas, axis, y, origin, style).draw(tries, checks)
        if named:
            _name_row(canvas, y, fault)
    if others:
        y = top + LANE_HEIGHT - 11
        _Row(canvas, axis, y, origin, _RowStyle(3.5, 0, 0)).draw(others, None)
        if named:
            _name_row(canvas, y, "other")


def _draw_lane_frame(canvas: _Canvas, axis: _TimeAxis, top: float, index: int, run: RunResult) -> None:
    if index % 2 == 0:
        canvas.rect((0, top, WIDTH, top + LANE_HEIGHT), SHADE)
    for tick in axis.ticks():
        canvas.line(axis.x(tick), top, axis.x(tick), top + LANE_HEIGHT, FAINT)
    canvas.text(20, top + LANE_HEIGHT / 2, f"run {run.run}", 17, anchor="lm")
    _draw_outcome(canvas, top, run)


def _name_row(canvas: _Canvas, y: float, name: str) -> None:
    canvas.text(PLOT_LEFT - 12, y, _shorten(canvas, name, 12, PLOT_LEFT - 92), 12, MUTED, anchor="rm")


def _rows(entries: list[Entry]) -> tuple[list[tuple[str, list[Entry]]], list[Entry]]:
    """Each fault's attempts, faults in order of their first request; and the requests on no fault."""
    by_fault: dict[str | None, list[Entry]] = {}
    for entry in entries:
        by_fault.setdefault(entry["fault_id"], []).append(entry)
    faults = [
        (fault, sorted(tries, key=lambda e: (e["attempt"] or 0, e["received_at"])))
        for fault, tries in by_fault.items()
        if fault is not None
    ]
    return faults, by_fault.get(None, [])


@dataclass(frozen=True)
class _RowStyle:
    radius: float
    above: int  # lines of status labels above the dots
    below: int  # lines of gap labels under the bars


def _row_style(faults: int, pitch: float, others: bool) -> _RowStyle:
    """As many label lines as the row's share of the lane holds: statuses only on a fault alone."""
    if faults <= 1:
        return _RowStyle(7, 1, 1) if others else _RowStyle(7, 2, 2)
    return _RowStyle(5, 0, 1 if pitch >= 28 else 0)


def _draw_outcome(canvas: _Canvas, top: float, run: RunResult) -> None:
    x, width = PLOT_RIGHT + 24, WIDTH - PLOT_RIGHT - 36
    label = {"timeout": "timed out", "recovered": "recovered"}.get(run.outcome, run.outcome)
    if run.outcome == "recovered" and run.recovery is not None:
        label += f" in {format_duration(run.recovery)}"
    y = top + 22 if run.reasons else top + LANE_HEIGHT / 2
    canvas.text(x, y, label, 17, OUTCOME_COLOURS.get(run.outcome, INK), anchor="lm")
    if run.reasons:  # the first reason, without the "run 3: " that the lane already says
        reason = run.reasons[0].removeprefix(f"run {run.run}: ")
        for number, line in enumerate(_wrap(canvas, reason, 13, width, lines=2)):
            canvas.text(x, top + 38 + 16 * number, line, 13, MUTED)


def _wrap(canvas: _Canvas, text: str, size: int, width: float, lines: int) -> list[str]:
    """`text` in at most `lines` lines of `width`, the last one shortened if the text does not fit."""
    wrapped: list[str] = []
    words = text.split()
    while words and len(wrapped) < lines:
        line = words.pop(0)
        while words and canvas.width(f"{line} {words[0]}", size) <= width:
            line += " " + words.pop(0)
        wrapped.append(line)
    if words:
        wrapped[-1] = _shorten(canvas, f"{wrapped[-1]} {' '.join(words)}", size, width)
    return wrapped


class _Row:
    """One row of a lane: attempts as dots under their status, gaps as bars over their length."""

    def __init__(self, canvas: _Canvas, axis: _TimeAxis, y: float, origin: float, style: _RowStyle) -> None:
        self.canvas, self.axis, self.y, self.origin, self.style = canvas, axis, y, origin, style
        self.above, self.below = _Labels(style.above), _Labels(style.below)

    def x(self, entry: Entry, key: str) -> float:
        return self.axis.x(entry[key] - self.origin)

    def draw(self, tries: list[Entry], checks: dict[tuple[str, int], GapCheck] | None) -> None:
        """`checks` None: these requests are on no fault, so they have no gaps to show."""
        self.canvas.line(
            self.x(tries[0], "received_at"), self.y, self.x(tries[-1], "responded_at"), self.y, FAINT, 2
        )
        gaps = (
            []
            if checks is None
            else [
                (checks.get((prev["fault_id"], number)), prev, after)
                for number, (prev, after) in enumerate(pairwise(tries), start=2)
            ]
        )
        for check, prev, after in gaps:
            self.canvas.line(
                self.x(prev, "responded_at"),
                self.y,
                self.x(after, "received_at"),
                self.y,
                _gap_colour(check),
                5,
            )
        for entry in tries:
            self._draw_attempt(entry)
        for check, prev, after in sorted(gaps, key=lambda gap: gap[0] is None or gap[0].ok):
            self._label_gap(check, prev, after)  # the gaps out of bounds get a label first

    def _draw_attempt(self, entry: Entry) -> None:
        x, colour = self.x(entry, "received_at"), _status_colour(entry)
        self.canvas.line(x, self.y, self.x(entry, "responded_at"), self.y, colour, 2)  # time in flight
        self.canvas.dot(x, self.y, self.style.radius, colour)
        text = str(entry["status"])
        width = self.canvas.width(text, 14)
        level = self.above.place(x - width / 2, x + width / 2)
        if level is not None:
            self.canvas.text(x, self.y - 10 - 15 * level, text, 14, colour, anchor="mb")

    def _label_gap(self, check: GapCheck | None, prev: Entry, after: Entry) -> None:
        gap = after["received_at"] - prev["responded_at"]
        middle = (self.x(prev, "responded_at") + self.x(after, "received_at")) / 2
        text = format_duration(gap)
        width = self.canvas.width(text, 14)
        level = self.below.place(middle - width / 2, middle + width / 2)
        if level is not None:
            self.canvas.text(middle, self.y + 9 + 15 * level, text, 14, _gap_colour(check), anchor="mt")


def _gap_colour(check: GapCheck | None) -> Rgb:
    return GREY if check is None else GAP_OK if check.ok else RED


def _status_colour(entry: Entry) -> Rgb:
    if entry["injected"]:
        return RED
    return GREEN if 200 <= entry["status"] < 300 else GREY


def _draw_axis(canvas: _Canvas, axis: _TimeAxis, top: float) -> None:
    canvas.line(PLOT_LEFT, top, PLOT_RIGHT, top, INK, 1)
    for tick in axis.ticks():
        canvas.line(axis.x(tick), top, axis.x(tick), top + 6, INK, 1)
        canvas.text(axis.x(tick), top + 10, f"{tick:g} s", 14, anchor="mt")
    canvas.text(
        (PLOT_LEFT + PLOT_RIGHT) / 2,
        top + 40,
        "seconds since the run's first request",
        15,
        MUTED,
        anchor="mt",
    )


def _shorten(canvas: _Canvas, text: str, size: int, width: float) -> str:
    while len(text) > 1 and canvas.width(text, size) > width:
        text = text[:-2] + "…"
    return text
