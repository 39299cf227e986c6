"""`iris rehearse FILE`: validate or run a scenario from a terminal or CI and say how it went."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from bot.errors import problems_in_terminal
from bot.rehearsals.report import progress_line, summary
from bot.rehearsals.runner import Progress, Rehearsal
from bot.rehearsals.scenario import ScenarioError, load_scenario


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    rehearse = commands.add_parser("rehearse", help="run a rehearsal from the terminal or CI")
    rehearse.add_argument("file", type=Path, help="the scenario file (YAML)")
    rehearse.add_argument("--runs", type=_positive_int, help="run fewer times than the file says")
    rehearse.add_argument("--json", action="store_true", help="print the full result as JSON")
    rehearse.add_argument("--check", action="store_true", help="only validate the scenario file")
    rehearse.set_defaults(run=_run)


def _positive_int(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of runs (1 or more)")
    return int(value)


def _run(args: argparse.Namespace) -> int:
    """Exit 0 on pass, 1 on fail or inconclusive, 2 on an invalid scenario: usable as a CI gate."""
    return rehearse_from_terminal(args.file, runs=args.runs, as_json=args.json, check_only=args.check)


def rehearse_from_terminal(path: Path, *, runs: int | None, as_json: bool, check_only: bool) -> int:
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        return problems_in_terminal(f"iris: {path} is not a valid scenario:", exc.errors)
    if check_only:
        print(f"{path}: valid. {scenario.summary()}")
        return 0
    rehearsal = Rehearsal(
        scenario,
        runs=runs,
        on_progress=_print_progress,
        alertmanager_url=os.environ.get("IRIS_ALERTMANAGER_URL") or None,
    )
    stopper = _abort_on_signals(rehearsal.abort)
    with stopper:
        result = rehearsal.run()
    if as_json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(summary(result)))
    if stopper.signal is not None:
        return 128 + stopper.signal  # the shell's convention: 130 after Ctrl-C, 143 after SIGTERM
    passed = result.status == "completed" and result.verdict is not None and result.verdict.verdict == "pass"
    return 0 if passed else 1


def _print_progress(progress: Progress) -> None:
    print(progress_line(progress), file=sys.stderr, flush=True)


class _abort_on_signals:
    """Ctrl-C or SIGTERM ends the rehearsal cleanly: the target's processes and the proxy go too."""

    def __init__(self, abort: threading.Event) -> None:
        self._abort = abort
        self._previous: dict[int, object] = {}
        self.signal: int | None = None

    def __enter__(self) -> None:
        # SIGHUP too: a closed terminal must not leave the target running in its own session.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self._previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        print("iris: stopping the rehearsal and cleaning up…", file=sys.stderr, flush=True)
        self.signal = signum
        self._abort.set()

    def __exit__(self, *_: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
