"""What a person does in the playground (or the tour does for them): commands, clicks, form submissions
and a sample alert, sent to IRIS signed exactly as Slack and Alertmanager would send them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.demo.world import Channel, Person
from bot.slack_standin.driver import SignedRequest, SlackDriver
from bot.slack_standin.model import Reader
from bot.slack_standin.server import SlackStandin

Json = dict[str, Any]


@dataclass(frozen=True)
class IrisEndpoints:
    """Where the demo's IRIS listens and the token its alert webhook wants."""

    base_url: str
    alert_token: str


class PlaygroundRefusal(Exception):
    """Why an action could not be sent: shown under the page's composer, or ends the tour."""

    def __init__(self, sentence: str, status: int = 400) -> None:
        super().__init__(sentence)
        self.status = status


@dataclass(frozen=True)
class Click:
    """A button as the page reports it: what Slack puts in a block_actions payload's action."""

    action_id: str
    value: str | None
    block_id: str = ""
    message_ts: str | None = None


@dataclass
class Modals:
    """Which views each person opened, which are closed, and the errors IRIS gave a submission."""

    triggers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    closed: set[str] = field(default_factory=set)
    errors: dict[str, dict[str, str]] = field(default_factory=dict)


class SlackClient:
    """A Slack client's hands over the stand-in: synchronous (the driver is), so call it from a thread."""

    def __init__(
        self,
        standin: SlackStandin,
        driver: SlackDriver,
        iris: IrisEndpoints,
        people: Sequence[Person],
        channels: Sequence[Channel],
    ) -> None:
        self.standin, self.driver, self.iris = standin, driver, iris
        self.people, self.channels = tuple(people), tuple(channels)
        self.modals = Modals()
        self.changed: Callable[[], None] = lambda: None  # told when only the client's own state changed

    def do_command(self, channel: object, user: object, text: str) -> None:
        command, _, rest = text.strip().partition(" ")
        if command != "/iris":
            raise PlaygroundRefusal("Type a slash command such as /iris help: IRIS reads no other messages.")
        reader = Reader(self.channel_id(channel), self.person_id(user))
        built = self.driver.build_command(rest.strip(), user_id=reader.user, channel_id=reader.channel)
        answer = self._send(built, reader)
        if isinstance(answer, dict) and (answer.get("text") or answer.get("blocks")):
            self.standin.show_ack(reader, answer)  # Slack shows a command's ack body; a click's it ignores

    def do_action(self, channel: object, user: object, click: Click) -> None:
        channel_id, user_id = self.channel_id(channel), self.person_id(user)
        built = self.driver.build_block_action(
            click.action_id,
            click.value,
            block_id=click.block_id,
            user_id=user_id,
            channel_id=channel_id,
            message_ts=click.message_ts,
        )
        messages = self.standin.messages(channel_id)
        thread_ts = next((m.thread_ts for m in messages if m.ts == click.message_ts), None)
        self._send(built, Reader(channel_id, user_id, click.message_ts, thread_ts))

    def _send(self, built: SignedRequest, reader: Reader) -> Any:
        """Send a built request with its response_url and trigger bound to `reader`; IRIS's JSON answer."""
        if built.response_url_name:
            self.standin.bind_response_url(built.response_url_name, reader)
        if built.trigger_id:
            self.modals.triggers[reader.user].add(built.trigger_id)
        return self._answer_of(built)

    def _answer_of(self, built: SignedRequest) -> Any:
        """IRIS's JSON answer to `built` (None for an empty one); anything but 200 is refused."""
        result = self.driver.send(built)
        if result.status_code != 200:
            raise PlaygroundRefusal(f"IRIS answered HTTP {result.status_code}.", 502)
        return result.json() if result.body else None

    def do_submit(self, view_id: str, user: object, values: Json) -> None:
        user_id = self.person_id(user)
        views = [v for v in self.standin.views_opened_by(self.modals.triggers[user_id]) if v["id"] == view_id]
        if not views or view_id in self.modals.closed:
            raise PlaygroundRefusal("That form is closed already.", 409)
        built = self.driver.build_view_submission(
            str(views[0].get("callback_id") or ""),
            values,
            private_metadata=str(views[0].get("private_metadata") or ""),
            user_id=user_id,
            view_id=view_id,
        )
        answer = self._answer_of(built)
        if isinstance(answer, dict) and answer.get("response_action") == "errors":
            self.modals.errors[view_id] = {str(k): str(v) for k, v in (answer.get("errors") or {}).items()}
        else:
            self.modals.closed.add(view_id)
        self.changed()

    def open_view(self, user: str) -> Json | None:
        """The modal `user` has open, as Slack holds it (for the tour)."""
        opened = self.standin.views_opened_by(self.modals.triggers[user])
        return next((v for v in reversed(opened) if v["id"] not in self.modals.closed), None)

    def fire_alert(self, state: str) -> None:
        """A sample Alertmanager group through IRIS's real webhook, with its bearer token."""
        response = httpx.post(
            self.iris.base_url + "/alerts/alertmanager",
            json=sample_alert_group(state, datetime.now(UTC)),
            headers={"Authorization": f"Bearer {self.iris.alert_token}"},
            timeout=10,
            trust_env=False,
        )
        if response.status_code >= 300:
            raise PlaygroundRefusal(f"IRIS answered HTTP {response.status_code}: {response.text[:200]}", 502)

    def channel_id(self, value: object) -> str:
        """A demo channel's id: the one given when it is one, else the first (#ops)."""
        known = [c.id for c in self.channels]
        return str(value) if value in known else known[0]

    def person_id(self, value: object) -> str:
        """A demo person's id: the one given when it is one, else the first (you, the admin)."""
        known = [p.id for p in self.people]
        return str(value) if value in known else known[0]

    def close_view(self, view_id: str) -> None:
        self.modals.closed.add(view_id)
        self.changed()


def sample_alert_group(state: str, now: datetime) -> Json:
    """Two alerts of one group as Alertmanager sends them; `resolved` ends both."""
    stamp = now.isoformat().replace("+00:00", "Z")
    alerts = [
        {
            "status": state,
            "labels": {
                "alertname": "RetryBurst",
                "instance": instance,
                "job": "payments",
                "severity": "critical",
            },
            "annotations": {
                "summary": f"Retries above 5% on {instance}",
                "runbook_url": "https://runbooks.example.org/retry-burst",
            },
            "startsAt": "2026-12-07T00:00:00Z",
            "endsAt": stamp if state == "resolved" else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph",
            "fingerprint": fingerprint,
        }
        for instance, fingerprint in (("api-1:9100", "d3m0a1"), ("api-2:9100", "d3m0a2"))
    ]
    common = {"alertname": "RetryBurst", "job": "payments", "severity": "critical"}
    return {
        "receiver": "iris",
        "status": state,
        "alerts": alerts,
        "groupLabels": {"alertname": "RetryBurst"},
        "commonLabels": common,
        "commonAnnotations": {"runbook_url": "https://runbooks.example.org/retry-burst"},
        "externalURL": "http://alertmanager.example.org:9093",
        "version": "4",
        "groupKey": '{}:{alertname="RetryBurst"}',
        "truncatedAlerts": 0,
    }
