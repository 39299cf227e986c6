"""The demo's pretend team: channels, people and roles, and the files IRIS reads (iris.yml, a scenario)."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import bot

EXAMPLES = Path(bot.__file__).resolve().parents[1] / "examples"
SCENARIO = "automation-v1.2"
BASE_DELAY_S = 0.2  # the example script's back-off, shortened from 1 s so a rehearsal takes seconds


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str  # what the user switcher says they may do


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    purpose: str


YOU = Person("U0DEMOYOU", "you", "admin: every role")
PEOPLE = (
    YOU,
    Person("U0RELEASE", "hyejin", "release manager: starts checklists and rehearsals"),
    Person("U0APPROVE", "cheolsu", "approver: signs the approval step"),
    Person("U0ONCALL1", "minji", "on-call: silences alerts, runs alert-test"),
    Person("U0NOROLE1", "guest", "no role: may look, not change"),
)
OPS = Channel("C0DEMOOPS", "ops", "commands, briefings")
INCIDENTS = Channel("C0DEMOINC", "incidents", "alert groups")
RELEASE = Channel("C0DEMOREL", "release", "checklists, rehearsals, alerts of team=release")
REPORTS = Channel("C0DEMOREP", "reports", "the daily report")
CHANNELS = (OPS, INCIDENTS, RELEASE, REPORTS)


class DemoSetupError(Exception):
    """The demo cannot be set up; the message says why in one sentence."""


def iris_yml(scenarios: Path, checklists: Path) -> dict[str, Any]:
    return {
        "channels": {
            "default": OPS.id,
            "incidents": INCIDENTS.id,
            "reports": REPORTS.id,
            "briefings": OPS.id,
        },
        "roles": {
            "admins": [YOU.id],
            "release_managers": [PEOPLE[1].id],
            "approvers": [PEOPLE[2].id],
            "oncall": [PEOPLE[3].id],
        },
        "routes": [{"match": {"team": "release"}, "channel": RELEASE.id}],
        "folders": {"scenarios": str(scenarios), "checklists": str(checklists)},
        "reports": {
            "author": "Kang Cheol-su",
            "reviewer": "Kang Hye-jin",
            "stage": "Step 4: operational stability",
            "keywords": ["automation rehearsal", "retry QA", "release checklist"],
        },
    }


def demo_scenario(upstream_url: str) -> str:
    """The example rehearsal against the demo's own upstream, with the back-off shortened to 0.2 s.

    Edited as text, not re-dumped: a YAML round trip would turn the `on:` key into `true:`.
    """
    script = EXAMPLES / "automation" / "automation.py"
    command = [
        sys.executable,
        str(script),
        "--env",
        "qa",
        "--base-delay",
        str(BASE_DELAY_S),
        "--poll-every",
        "0.2",
    ]
    text = (EXAMPLES / "scenarios" / f"{SCENARIO}.yml").read_text(encoding="utf-8")
    edits = (
        (r"(?m)^upstream: .*$", f"upstream: {upstream_url}"),
        (r"(?m)^  command: .*$", f"  command: {json.dumps(command)}"),
        (r"(?m)^  workdir: .*$", f"  workdir: {json.dumps(str(script.parent))}"),
        (r"backoff: \{base: 1s,", f"backoff: {{base: {int(BASE_DELAY_S * 1000)}ms,"),
        (r"tolerance: \{[^}]*\}", "tolerance: {abs: 150ms, rel: 0.25}"),
    )
    for pattern, replacement in edits:
        text, count = re.subn(pattern, replacement.replace("\\", r"\\"), text)
        if count != 1:
            raise DemoSetupError(
                f"the example scenario changed shape ({pattern!r}); the demo cannot adapt it."
            )
    return text


def write_demo_files(folder: Path, upstream_url: str) -> Path:
    """Write iris.yml and the scenario folder into `folder`; returns iris.yml's path."""
    if not (EXAMPLES / "scenarios" / f"{SCENARIO}.yml").is_file():
        raise DemoSetupError(
            f"the examples folder is missing ({EXAMPLES}); run iris demo from a checkout of IRIS."
        )
    scenarios = folder / "scenarios"
    scenarios.mkdir(parents=True, exist_ok=True)
    (scenarios / f"{SCENARIO}.yml").write_text(demo_scenario(upstream_url), encoding="utf-8")
    config = folder / "iris.yml"
    config.write_text(yaml.safe_dump(iris_yml(scenarios, EXAMPLES / "checklists"), sort_keys=False))
    return config
