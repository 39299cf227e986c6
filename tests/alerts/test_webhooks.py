"""The alert webhooks through a running `iris serve`: refusals, Grafana groups, escaping, routing, crashes."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from bot.slack_standin.server import SlackStandin
from storage.alerts import Alert, AlertGroup
from storage.db import read_scope
from tests.alerts.conftest import TOKEN, block_text, fixture, group_ids, send, thread, top_level
from tests.e2e.conftest import IrisServer

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process


def _stored(engine: Engine) -> tuple[int, int]:
    with read_scope(engine) as session:
        groups = session.exec(select(func.count()).select_from(AlertGroup)).one()
        alerts = session.exec(select(func.count()).select_from(Alert)).one()
    return groups, alerts


def test_bad_requests_are_refused_and_nothing_is_stored(
    alerting: IrisServer, alerting_db: Engine, standin: SlackStandin
) -> None:
    good = fixture("alertmanager_firing.json")
    assert send(alerting, "alertmanager", good, token=None).status_code == 401
    assert send(alerting, "alertmanager", good, token="wrong").status_code == 401
    assert send(alerting, "grafana", fixture("grafana_firing.json"), token=TOKEN[:-1]).status_code == 401
    malformed = send(alerting, "alertmanager", b'{"version": "4", "alerts": [')
    assert malformed.status_code == 400 and malformed.json()["field"] == "body"
    wrong_type = copy.deepcopy(good)
    wrong_type["alerts"][0]["labels"]["severity"] = ["critical"]
    answer = send(alerting, "alertmanager", wrong_type)
    assert answer.status_code == 400 and answer.json()["field"] == "alerts[0].labels.severity"
    assert "alerts[0].labels.severity" in answer.json()["error"]
    oversized = json.dumps(good).encode() + b" " * (5 * 1024 * 1024)
    assert send(alerting, "alertmanager", oversized).status_code == 413
    assert send(alerting, "grafana", b"[]").status_code == 400
    assert _stored(alerting_db) == (0, 0)
    assert standin.calls("chat.postMessage") == []


def test_a_large_payload_under_5_mib_is_accepted(alerting: IrisServer, alerting_db: Engine) -> None:
    data = fixture("alertmanager_firing.json")
    template = data["alerts"][0]
    data["alerts"] = [
        {
            **template,
            "fingerprint": f"{i:016x}",
            "labels": {**template["labels"], "instance": f"api-{i}"},
            "annotations": {**template["annotations"], "description": "x" * 3000},
        }
        for i in range(500)
    ]  # about 1.7 MiB: over the 1 MiB limit of Slack's route
    assert send(alerting, "alertmanager", data).status_code == 200
    assert _stored(alerting_db) == (1, 500)


def test_a_grafana_group_is_one_message_edited_in_place_with_a_thread(
    alerting: IrisServer, standin: SlackStandin
) -> None:
    assert send(alerting, "grafana", fixture("grafana_firing.json")).status_code == 200
    standin.wait_for(lambda s: top_level(s, "C0INC"))
    [message] = top_level(standin, "C0INC")
    assert "High memory usage" in message.text and "2 firing" in message.text
    assert "https://myrunbook.com/runbook/1234" in block_text(message)

    assert send(alerting, "grafana", fixture("grafana_multiple.json")).status_code == 200
    standin.wait_for(lambda s: thread(s, "C0INC", message.ts) and top_level(s, "C0INC")[0].edits)
    replies = [m.text for m in thread(standin, "C0INC", message.ts)]
    assert any("joined" in r and "resolved" in r and "1 of 3 resolved" in r for r in replies), replies
    assert send(alerting, "grafana", fixture("grafana_resolved.json")).status_code == 200
    standin.wait_for(lambda s: len(thread(s, "C0INC", message.ts)) == 2)
    [edited] = top_level(standin, "C0INC")
    assert "2 resolved" in edited.text and "1 firing" in edited.text  # ap-2 still fires
    assert "2 of 3 resolved" in thread(standin, "C0INC", message.ts)[-1].text


def test_labels_cannot_ping_the_channel_or_forge_links(alerting: IrisServer, standin: SlackStandin) -> None:
    data = fixture("alertmanager_firing.json")
    hostile = "<!channel> <https://evil.example|click me> <b>bold</b> & co"
    data["groupLabels"]["alertname"] = data["commonLabels"]["alertname"] = hostile
    alert = data["alerts"][0]
    alert["labels"]["alertname"] = hostile
    alert["annotations"] = {
        "summary": "<!here> look",
        "description": "<script>alert(1)</script>",
        "runbook_url": "https://runbooks.example.org/a|<!channel>>",
    }
    alert["generatorURL"] = "javascript:alert(1)"
    assert send(alerting, "alertmanager", data).status_code == 200
    standin.wait_for(lambda s: top_level(s, "C0INC"))
    [message] = top_level(standin, "C0INC")
    rendered = block_text(message) + message.text
    for forbidden in ("<!channel>", "<!here>", "<https://evil", "<b>", "<script>", "javascript:"):
        assert forbidden not in rendered
    assert "&lt;!channel&gt;" in rendered and "&amp; co" in rendered
    assert "https://runbooks.example.org/a%7C%3C!channel%3E%3E|" in rendered


def test_routes_pick_the_channel_and_mention_the_group(alerting: IrisServer, standin: SlackStandin) -> None:
    data = fixture("alertmanager_firing.json")
    data["commonLabels"]["team"] = "payments"
    assert send(alerting, "alertmanager", data).status_code == 200
    standin.wait_for(lambda s: top_level(s, "C0PAY"))
    assert top_level(standin, "C0PAY")[0].text.startswith("<!subteam^S0PAYONCALL>")
    assert top_level(standin, "C0INC") == []


def test_a_group_of_300_alerts_stays_within_slacks_limits(
    alerting: IrisServer, standin: SlackStandin
) -> None:
    data = fixture("alertmanager_firing.json")
    template = data["alerts"][0]
    data["alerts"] = [
        {**template, "fingerprint": f"{i:016x}", "labels": {**template["labels"], "pod": f"p{i}"}}
        for i in range(300)
    ]
    assert send(alerting, "alertmanager", data).status_code == 200
    standin.wait_for(lambda s: top_level(s, "C0INC") and any(f.completed for f in s.files()), timeout=20)
    [message] = top_level(standin, "C0INC")
    assert message.blocks is not None and len(message.blocks) <= 50  # the stand-in refuses more anyway
    assert "290 more alerts" in block_text(message)
    [listing] = standin.files()
    assert listing.data is not None and listing.data.count(b"\n") == 301
    assert listing.thread_ts == message.ts


def test_a_kill_right_after_the_200_loses_nothing(
    alerting: IrisServer, standin: SlackStandin, alerting_db: Engine
) -> None:
    assert send(alerting, "grafana", fixture("grafana_firing.json")).status_code == 200
    assert alerting.process is not None
    alerting.process.kill()  # kill -9 at once: the message may or may not have been queued or sent
    alerting.process.wait()
    alerting.process = None
    assert group_ids(alerting_db) == [1]
    alerting.start()
    # A send cut off mid-call is retried when its 60 s lease runs out, hence the long wait.
    standin.wait_for(lambda s: top_level(s, "C0INC"), timeout=90)
    assert len(top_level(standin, "C0INC")) == 1
