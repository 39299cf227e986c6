"""The work of `/iris alert-test [timeout=SECONDS]` (role oncall): the alert path checked end to end."""

from __future__ import annotations

import re

from bot.alerts.alert_test import AlertTest, AlertTester, Busy, CaseResult, ShuttingDown
from bot.deps import Deps
from bot.errors import UserError
from bot.i18n import N_, Translator
from commands.kit import COMMAND, Invocation, ParseContext, escape_mrkdwn, reply, require_role
from storage.outbox import NewMessage

ROLE = "oncall"
DEFAULT_TIMEOUT_S = 300  # per case: Alertmanager's default group_interval is 5 minutes
TIMEOUT_RANGE = (5, 1800)
ICONS = {"pass": ":white_check_mark:", "fail": ":x:", "skip": ":fast_forward:"}
CASE_NAMES = (
    N_("a single alert fires"),
    N_("a second alert joins the group"),
    N_("one alert resolves"),
    N_("the group resolves"),
    N_("it re-fires after resolving"),
    N_("a label routes it to a second channel"),
    N_("a silence suppresses the next notification"),
    N_("a 120-alert group renders within Slack's limits"),
)


def parse_timeout(context: ParseContext, rest: str) -> int:
    text = rest.strip()
    if not text:
        return DEFAULT_TIMEOUT_S
    found = re.fullmatch(r"timeout=(\d{1,5})", text)
    if found is None or not TIMEOUT_RANGE[0] <= int(found.group(1)) <= TIMEOUT_RANGE[1]:
        raise UserError(
            context.t(
                "Usage: `{command} alert-test [timeout=SECONDS]`, with {low} to {high} seconds per case.",
                command=COMMAND,
                low=TIMEOUT_RANGE[0],
                high=TIMEOUT_RANGE[1],
            )
        )
    return int(found.group(1))


def start_alert_test(deps: Deps, invocation: Invocation, timeout: int) -> NewMessage:
    require_role(deps, invocation, ROLE, "alert.test")
    try:
        test = deps.service(AlertTester).start(
            float(timeout), invocation.audit("alert.test"), invocation.response_url
        )
    except Busy:
        raise UserError(
            deps.t("An alert test is already running; its results will be posted when it ends.")
        ) from None
    except ShuttingDown:
        raise UserError(deps.t("IRIS is restarting; start the alert test again in a minute.")) from None
    answer = deps.t(
        "Running {n} alert tests (run `{run}`) through {path}; the results will appear here. Each case "
        "waits up to {timeout} s.",
        n=len(CASE_NAMES),
        run=test.run_id,
        path=_path(deps.t, test),
        timeout=timeout,
    )
    return reply(invocation, answer, source="alert-test")


def _path(t: Translator, test: AlertTest) -> str:
    return t("Alertmanager") if test.via_alertmanager else t("IRIS's own webhook")


def render_results(t: Translator, test: AlertTest, results: list[CaseResult]) -> str:
    passed = sum(1 for r in results if r.outcome == "pass")
    skipped = sum(1 for r in results if r.outcome == "skip")
    head = t(
        "*{passed} of {total} alert tests passed* — run `{run}` through {path}",
        passed=passed,
        total=len(results),
        run=test.run_id,
        path=_path(t, test),
    )
    if skipped:
        head += " " + t("({n} skipped)", n=skipped)
    return "\n".join([head, *(_line(t, r) for r in results)])


def _line(t: Translator, result: CaseResult) -> str:
    line = f"{ICONS[result.outcome]} {t(result.key)}"
    if result.outcome == "pass" and result.seconds is not None:
        line += " — " + t("{seconds} s", seconds=f"{result.seconds:.1f}")
    elif result.outcome == "skip":
        line += " — " + t("skipped: {reason}", reason=t(result.detail))
    elif result.detail:
        values = {name: escape_mrkdwn(value)[:200] for name, value in result.values.items()}
        line += " — " + t(result.detail, **values)
    return line
