"""Block Kit for rehearsals: the living parent message, one reply per run, the summary, lists."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.durations import format_duration
from bot.i18n import N_, Translator
from bot.rehearsals.analysis import RunResult, expected_gap
from bot.rehearsals.report import progress_bar
from bot.rehearsals.runner import RehearsalResult
from bot.rehearsals.scenario import Scenario, ScenarioError
from commands.kit import escape_mrkdwn
from storage.rehearsals import Rehearsal

ABORT_ACTION = "rehearse_abort"
# Outcomes, statuses and verdicts come from the engine as English keys; these mark them for the catalog.
STATE_WORDS = (
    N_("recovered"),
    N_("failed"),
    N_("timeout"),
    N_("pass"),
    N_("fail"),
    N_("inconclusive"),
    N_("running"),
    N_("completed"),
    N_("aborted"),
    N_("interrupted"),
)
MAX_REASONS = 8
Rendered = tuple[str, list[dict[str, Any]]]


def render_parent(
    t: Translator, record: Rehearsal, scenario_line: str, done: int, elapsed: float, state: str
) -> Rendered:
    """The message everyone watches while it runs; edited in place, with an Abort button.

    `state` is one of STATE_WORDS, translated here.
    """
    headline = t(
        "*Rehearsal* `{id}` of *{scenario}*: {state}",
        id=record.id,
        scenario=escape_mrkdwn(record.scenario),
        state=t(state),
    )
    detail = t(
        "{bar} · elapsed {elapsed} · started by <@{user}>",
        bar=progress_bar(done, record.runs_planned),
        elapsed=format_duration(elapsed),
        user=record.started_by or "?",
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=headline + "\n" + detail)),
        ContextBlock(elements=[MarkdownTextObject(text=escape_mrkdwn(scenario_line[:300]))]),
    ]
    if state == "running":
        blocks.append(ActionsBlock(elements=[_abort_button(t, record.id)]))
    return f"{headline} {detail}", [b.to_dict() for b in blocks]


def _abort_button(t: Translator, rehearsal_id: str) -> ButtonElement:
    confirm = ConfirmObject(
        title=t("Abort the rehearsal?"),
        text=t("Its target is stopped at once."),
        confirm=t("Abort"),
        deny=t("Keep running"),
    )
    return ButtonElement(
        text=t("Abort"), action_id=ABORT_ACTION, value=rehearsal_id, style="danger", confirm=confirm
    )


def render_run(t: Translator, result: RunResult) -> str:
    """One thread reply per run: outcome, attempts, every gap against its bounds, recovery."""
    lines = [t("*Run {run}*: {outcome}", run=result.run, outcome=t(result.outcome))]
    for fault, count in result.attempts.items():
        lines.append(t("• `{fault}`: {count} attempts", fault=escape_mrkdwn(fault), count=count))
    for gap in result.gaps:
        mark = "✅" if gap.ok else "❌"
        lines.append(
            t(
                "{mark} gap before attempt {n}: {gap} (allowed {low}–{high})",
                mark=mark,
                n=gap.before_attempt,
                gap=format_duration(gap.gap),
                low=format_duration(gap.bounds.low),
                high=format_duration(gap.bounds.high),
            )
        )
    if result.recovery is not None:
        lines.append(t("Recovered in {time}.", time=format_duration(result.recovery)))
    lines += [f"• {escape_mrkdwn(reason)}" for reason in result.reasons[:MAX_REASONS]]
    return "\n".join(lines)


def render_summary(t: Translator, record: Rehearsal, result: RehearsalResult) -> Rendered:
    """The parent message once it is over: the verdict and the headline numbers, no button."""
    verdict = result.verdict
    verdict_word = t(verdict.verdict) if verdict else t("no verdict")
    headline = t(
        "*Rehearsal* `{id}` of *{scenario}*: {status}, verdict *{verdict}*",
        id=record.id,
        scenario=escape_mrkdwn(record.scenario),
        status=t(result.status),
        verdict=verdict_word,
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=headline))]
    if verdict is not None:
        blocks.append(SectionBlock(fields=[MarkdownTextObject(text=f) for f in _figures(t, result)]))
        reasons = [f"• {escape_mrkdwn(r)}" for r in verdict.reasons[:MAX_REASONS]]
        if reasons:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(reasons)[:2900])))
    notes = [escape_mrkdwn(note) for note in result.notes]
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="\n".join(notes)[:2900])]))
    return headline, [b.to_dict() for b in blocks]


def _figures(t: Translator, result: RehearsalResult) -> list[str]:
    verdict = result.verdict
    assert verdict is not None
    mean = format_duration(verdict.recovery_mean) if verdict.recovery_mean is not None else "–"
    longest = format_duration(verdict.recovery_max) if verdict.recovery_max is not None else "–"
    return [
        t(
            "*Success rate*\n{rate:.0%} ({ok}/{runs})",
            rate=verdict.success_rate,
            ok=verdict.recovered,
            runs=verdict.runs,
        ),
        t("*Recovery*\nmean {mean}, max {longest}", mean=mean, longest=longest),
        t("*Back-off*\n{ok}/{total} gaps in bounds", ok=verdict.backoff_ok, total=verdict.backoff_total),
        t("*Faults injected*\n{count}", count=verdict.faults_injected),
    ]


def render_list(t: Translator, entries: list[tuple[Any, Scenario | ScenarioError]]) -> str:
    if not entries:
        return t("There are no scenarios in the scenarios folder set in iris.yml.")
    lines = [t("Scenarios you can rehearse:")]
    for path, scenario in entries:
        if isinstance(scenario, ScenarioError):
            lines.append(
                t(
                    "• `{file}`: not valid ({count} problems; run `iris rehearse {file} --check`)",
                    file=escape_mrkdwn(path.name),
                    count=len(scenario.errors),
                )
            )
        else:
            lines.append(f"• *{escape_mrkdwn(scenario.name)}* — {escape_mrkdwn(scenario.summary())}")
    return "\n".join(lines)


def render_records(t: Translator, records: list[Rehearsal]) -> str:
    if not records:
        return t("No rehearsal has run yet.")
    lines = [t("Recent rehearsals:")]
    for record in records:
        lines.append(
            t(
                "• `{id}` {scenario}: {status}{verdict}, {done}/{planned} runs",
                id=record.id,
                scenario=escape_mrkdwn(record.scenario),
                status=t(record.status),
                verdict=f", {t(record.verdict)}" if record.verdict else "",
                done=record.runs_done,
                planned=record.runs_planned,
            )
        )
    return "\n".join(lines)


def render_plan(t: Translator, scenario: Scenario, runs: int) -> str:
    """What a dry run shows: what would be run and which waits the target must keep."""
    retry = scenario.expect.retry
    lines = [
        t("*Dry run* of *{name}*: nothing is started.", name=escape_mrkdwn(scenario.name)),
        t(
            "{runs} runs of the target; faults: {faults}.",
            runs=runs,
            faults=", ".join(f"`{escape_mrkdwn(f.id)}`" for f in scenario.faults) or t("none"),
        ),
    ]
    for k in range(1, retry.max_attempts):
        bounds = expected_gap(retry.backoff, k, retry.tolerance, None, retry.honor_retry_after)
        lines.append(
            t(
                "• gap before attempt {n}: {low}–{high}",
                n=k + 1,
                low=format_duration(bounds.low),
                high=format_duration(bounds.high),
            )
        )
    return "\n".join(lines)
