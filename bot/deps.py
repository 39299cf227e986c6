"""Everything handlers and jobs need, in one frozen dataclass built once by the entry point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from bot.alerts.alert_test import AlertTester
from bot.alerts.service import AlertService
from bot.briefings.service import BriefingService
from bot.checklists.service import ChecklistService
from bot.config import Config
from bot.i18n import Translator
from bot.jobs import JobRunner
from bot.metrics import Metrics
from bot.outbox import Outbox
from bot.permissions import Roles
from bot.rehearsals.service import RehearsalService
from bot.slack.api import SlackGateway
from bot.slack.identity import IdentityCache


@dataclass(frozen=True)
class Deps:
    config: Config
    engine: Engine
    t: Translator
    metrics: Metrics
    slack: SlackGateway
    identity: IdentityCache
    outbox: Outbox
    jobs: JobRunner
    roles: Roles
    rehearsals: RehearsalService
    checklists: ChecklistService
    briefings: BriefingService
    clock: Callable[[], datetime]
    started_at: float  # time.monotonic() when the process started serving
    alerts: AlertService
    alert_tests: AlertTester
