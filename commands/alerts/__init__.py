"""Incident alerts: Alertmanager and Grafana webhooks (or Alertmanager polled, `alerts.pull`) become
one living Slack message per alert group.

Also `/iris incidents` (the open groups) and `/iris alert-test` (the alert path checked end to end).
"""

from __future__ import annotations

from apscheduler.schedulers.base import BaseScheduler
from slack_bolt.async_app import AsyncApp

from bot.alerts.alert_test import AlertTester
from bot.alerts.alertmanager import AlertmanagerClient
from bot.alerts.notifier import AlertNotifier, InBackground
from bot.alerts.poller import AlertPoller, PullStatus
from bot.alerts.pull import ALERTS
from bot.alerts.routing import ROUTES, Router
from bot.alerts.service import AlertService
from bot.config import Config
from bot.deps import Deps
from bot.i18n import N_
from commands.alerts.alert_test import parse_timeout, start_alert_test
from commands.alerts.buttons import acknowledge, group_home, silence, unsilence
from commands.alerts.incidents import list_incidents
from commands.alerts.publisher import SlackPublisher
from commands.alerts.views import ACK_ACTION, SILENCE_PATTERN, UNSILENCE_ACTION
from commands.alerts.webhooks import alert_endpoints
from commands.feature import Endpoint, Feature
from commands.kit import Action, Command, no_arguments, on_click
from storage.alerts import Alert, AlertEvent, AlertGroup, AlertPull, AlertTestRun

INCIDENTS = Command(
    "incidents",
    (Action("", "", N_("List the open alert groups."), no_arguments, list_incidents),),
)
ALERT_TEST = Command(
    "alert-test",
    (
        Action(
            None,
            "[timeout=SECONDS]",
            N_("Send synthetic alerts through the alert path and time them (role oncall)."),
            parse_timeout,
            start_alert_test,
        ),
    ),
)


def register(app: AsyncApp, deps: Deps) -> None:
    on_click(app, deps, ACK_ACTION, acknowledge, "alert-button", home=group_home)
    on_click(app, deps, SILENCE_PATTERN, silence, "alert-button", home=group_home)
    on_click(app, deps, UNSILENCE_ACTION, unsilence, "alert-button", home=group_home)


def build(deps: Deps) -> list[object]:
    config = deps.config
    channels = config.iris.channels
    router = Router(ROUTES.of(config), channels.incidents or channels.default)
    pull = ALERTS.of(config).pull
    alertmanager = AlertmanagerClient(silences_url(config))
    service = AlertService(deps.engine, router, alertmanager, deps.clock)
    silences = alertmanager.configured
    publisher = SlackPublisher(deps.t, deps.outbox, config.settings.iris_timezone, silences=silences)
    tester = AlertTester(service, publisher, *second_route(config))
    return [service, tester, AlertNotifier(service, publisher), PullStatus(deps.engine, pull, deps.clock)]


def silences_url(config: Config) -> str | None:
    """IRIS_ALERTMANAGER_URL; in pull mode the polled Alertmanager, which IRIS reaches, takes silences too."""
    pull = ALERTS.of(config).pull
    return config.settings.iris_alertmanager_url or (pull.url if pull else None)


def second_route(config: Config) -> tuple[dict[str, str] | None, str | None]:
    """The first route alert-test can satisfy with plain labels: equality matchers only."""
    for route in ROUTES.of(config):
        if route.match and not route.match_re:
            return dict(route.match), route.channel
    return None, None


def background(deps: Deps, scheduler: BaseScheduler) -> InBackground:
    pull = ALERTS.of(deps.config).pull
    service = deps.service(AlertService)
    poller = AlertPoller(service, AlertmanagerClient(pull.url), pull) if pull else None
    return InBackground(
        deps.service(AlertNotifier), closing=[deps.service(AlertTester)], poller=poller, scheduler=scheduler
    )


def endpoints(deps: Deps) -> list[Endpoint]:
    return alert_endpoints(deps.service(AlertService), deps.config.settings.iris_alert_token)


FEATURE = Feature(
    name="alerts",
    commands=(ALERT_TEST, INCIDENTS),
    register=register,
    services=build,
    background=background,
    endpoints=endpoints,
    tables=(AlertPull, AlertEvent, Alert, AlertGroup, AlertTestRun),
    counted=((N_("Alert groups"), AlertGroup),),
    config=(ROUTES, ALERTS),
)
