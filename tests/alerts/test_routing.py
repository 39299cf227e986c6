"""Routing: equality and anchored regex matchers, first match wins, the incidents channel otherwise."""

from __future__ import annotations

from bot.alerts.routing import Route, RouteConfig, Router

RULES = [
    RouteConfig(
        match={"team": "payments"},
        match_re={"severity": "critical|page"},
        channel="C0PAY",
        mention="S0PAYONCALL",
    ),
    RouteConfig(match_re={"alertname": "Retry.*"}, channel="C0RETRY"),
    RouteConfig(match={"team": "payments"}, channel="C0PAYLOW"),
]


def test_first_matching_rule_wins() -> None:
    router = Router(RULES, "C0INC")
    labels = {"team": "payments", "severity": "critical", "alertname": "RetryBurst"}
    assert router.route(labels) == Route("C0PAY", "S0PAYONCALL")
    assert router.route({**labels, "severity": "warning"}) == Route("C0RETRY")
    assert router.route({"team": "payments", "alertname": "DiskFull"}) == Route("C0PAYLOW")


def test_regexes_are_anchored_like_alertmanager() -> None:
    router = Router(RULES, "C0INC")
    assert router.route({"alertname": "NoRetryBurst"}) == Route("C0INC")
    assert router.route({"team": "payments", "severity": "critical-ish"}) == Route("C0PAYLOW")


def test_missing_label_matches_only_the_empty_string() -> None:
    router = Router([RouteConfig(match_re={"env": "|dev"}, channel="C0DEV")], "C0INC")
    assert router.route({}) == Route("C0DEV")
    assert router.route({"env": "prod"}) == Route("C0INC")


def test_nothing_configured_routes_nowhere() -> None:
    assert Router([], None).route({"a": "b"}) is None
