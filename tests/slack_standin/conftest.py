"""A slack_sdk WebClient pointed at the stand-in (the `standin` fixture is tests/conftest.py's)."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from bot.slack_standin.server import SlackStandin


@pytest.fixture
def client(standin: SlackStandin) -> WebClient:
    # No retry handlers: tests must see each scripted failure, not slack_sdk's retries of it.
    return WebClient(token="xoxb-test", base_url=standin.api_url, retry_handlers=[])
