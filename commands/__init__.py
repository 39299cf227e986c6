"""Every /iris subcommand, registered explicitly and in order: Bolt runs the first listener that matches."""

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from commands import alert_test, alerts, brief, checklist, help, incidents, rehearse, status


def register_all(app: AsyncApp, deps: Deps) -> None:
    help.register(app, deps)
    status.register(app, deps)
    rehearse.register(app, deps)
    checklist.register(app, deps)
    brief.register(app, deps)
    incidents.register(app, deps)
    alerts.register(app, deps)
    alert_test.register(app, deps)
    help.register_fallback(app, deps)  # last: unknown and not-yet-available subcommands
