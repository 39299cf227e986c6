"""Every /iris subcommand, registered explicitly and in order: Bolt runs the first listener that matches."""

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from commands import alerts, briefings, checklists, help, rehearsals, status
from commands.alerts import alert_test, incidents


def register_all(app: AsyncApp, deps: Deps) -> None:
    help.register(app, deps)
    status.register(app, deps)
    rehearsals.register(app, deps)
    checklists.register(app, deps)
    briefings.register(app, deps)
    incidents.register(app, deps)
    alerts.register(app, deps)
    alert_test.register(app, deps)
    help.register_fallback(app, deps)  # last: unknown and not-yet-available subcommands
