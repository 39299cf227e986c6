"""Plain-text lines about a rehearsal for a terminal or a CI log: progress, then the verdict."""

from __future__ import annotations

from bot.durations import format_duration
from bot.rehearsals.analysis import RunResult
from bot.rehearsals.runner import Progress, RehearsalResult


def progress_bar(done: int, total: int) -> str:
    """`▰▰▱▱▱ 2/5`, the same in a terminal and in Slack."""
    return "▰" * done + "▱" * max(0, total - done) + f" {done}/{total}"


def progress_line(progress: Progress) -> str:
    return f"{progress_bar(progress.run, progress.runs)}  {run_line(progress.result)}"


def run_line(result: RunResult) -> str:
    attempts = ", ".join(f"{fault}: {count} attempts" for fault, count in result.attempts.items())
    recovery = f", recovered in {format_duration(result.recovery)}" if result.recovery is not None else ""
    gaps_ok = sum(1 for gap in result.gaps if gap.ok)
    line = f"run {result.run} {result.outcome}: {attempts or 'no faulted requests'}{recovery}"
    line += f", back-off {gaps_ok}/{len(result.gaps)} gaps in bounds" if result.gaps else ""
    return line


def summary(result: RehearsalResult) -> list[str]:
    """The lines a person reads at the end: verdict, the headline numbers, and every reason."""
    verdict = result.verdict
    lines = [
        f"rehearsal {result.rehearsal_id} of {result.scenario}: {result.status}"
        + (f", verdict {verdict.verdict.upper()}" if verdict else "")
    ]
    if verdict is not None:
        lines.append(_headline(result))
        lines += [f"  - {reason}" for reason in verdict.reasons]
    lines += [f"  note: {note}" for note in result.notes]
    for run, output in sorted(result.outputs.items()):
        tail = output.strip().splitlines()[-5:]
        lines.append(f"  run {run} output (last {len(tail)} lines):")
        lines += [f"    {line}" for line in tail]
    return lines


def _headline(result: RehearsalResult) -> str:
    verdict = result.verdict
    assert verdict is not None
    parts = [
        f"success rate {verdict.success_rate:.0%} ({verdict.recovered}/{verdict.runs})",
        f"faults injected {verdict.faults_injected}",
        f"back-off gaps in bounds {verdict.backoff_ok}/{verdict.backoff_total}",
    ]
    if verdict.recovery_mean is not None:
        parts.insert(1, f"mean recovery {format_duration(verdict.recovery_mean)}")
    if verdict.recovery_max is not None:
        parts.insert(2, f"max recovery {format_duration(verdict.recovery_max)}")
    return "  " + ", ".join(parts)
