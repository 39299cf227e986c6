"""Scenario files: the issue's example parses exactly, defaults are documented, every mistake is named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.rehearsals.scenario import (
    Fault,
    Respond,
    Scenario,
    ScenarioError,
    Target,
    When,
    fill_placeholders,
    find_scenarios,
    load_scenario,
    parse_scenario,
    scenario_by_name,
)

FIXTURES = Path(__file__).parent / "fixtures" / "scenarios"
ISSUE_EXAMPLE = FIXTURES / "automation-v1.2.yml"
SOURCE = Path("/srv/iris/scenarios/example.yml")
MINIMAL = """
name: smoke
target: {command: [python3, job.py]}
upstream: http://api.internal:8080
"""


def parse(text: str, source: Path = SOURCE) -> Scenario:
    return parse_scenario(textwrap.dedent(text), source)


def errors_of(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse(text)
    assert caught.value.path == SOURCE
    assert str(caught.value) == "\n".join(caught.value.errors)
    return caught.value.errors


def minimal_with(extra: str) -> str:
    return textwrap.dedent(MINIMAL) + textwrap.dedent(extra)


# ---- the issue's example and the defaults ------------------------------------------------------


def test_the_issue_example_parses_with_every_value() -> None:
    scenario = load_scenario(ISSUE_EXAMPLE)

    assert scenario.source == ISSUE_EXAMPLE
    assert (scenario.name, scenario.environment, scenario.runs, scenario.cooldown) == (
        "automation-v1.2",
        "qa",
        5,
        0.0,
    )
    assert scenario.description == "Script v1.2 recovers from upstream 504s with exponential back-off"
    assert scenario.upstream == "http://qa-api.internal:8080"

    target = scenario.target
    assert target.kind == "command" and target.http is None
    assert target.command == ["python3", "automation.py", "--env", "qa"]
    assert target.workdir == FIXTURES
    assert target.env == {
        "API_URL": "{proxy_url}",
        "REHEARSAL_ID": "{rehearsal_id}",
        "REHEARSAL_RUN": "{run}",
    }
    assert target.timeout == 600.0

    [fault] = scenario.faults
    assert fault.id == "gw-timeout"
    assert (fault.match.method, fault.match.path) == ("POST", "/v1/jobs*")
    assert (fault.respond.status, fault.respond.headers, fault.respond.body) == (504, {}, "injected by IRIS")
    assert fault.when == When(attempts=[1, 2])
    assert (fault.when.probability, fault.when.seed, fault.when.every_nth) == (None, None, None)
    assert fault.delay == 0.0
    assert fault.retry_after_seconds() is None

    retry = scenario.expect.retry
    assert scenario.expect.exit_code == 0
    assert (retry.on, retry.max_attempts, retry.honor_retry_after) == ([502, 503, 504], 4, True)
    backoff = retry.backoff
    assert (backoff.base, backoff.factor, backoff.max) == (1.0, 2.0, 30.0)
    assert (backoff.jitter, backoff.jitter_max, backoff.first_retry) == ("none", 0.0, "nominal")
    assert (retry.tolerance.abs, retry.tolerance.rel) == (0.25, 0.10)

    success = scenario.success
    assert (success.success_rate, success.recovery_max, success.recovery_mean_max) == (1.0, 240.0, 210.0)

    evidence = scenario.evidence
    assert evidence is not None
    assert (evidence.window.pad_before, evidence.window.pad_after, evidence.settle) == (60.0, 120.0, 30.0)
    assert (evidence.poll.every, evidence.poll.attempts) == (10.0, 6)
    prom, apm, alert = evidence.checks
    assert (prom.id, prom.kind, prom.expect.comparison()) == (
        "prom-retries",
        "prometheus",
        ("delta_equals", "faults_injected"),
    )
    assert prom.prometheus is not None
    assert (prom.prometheus.url, prom.prometheus.counter) == (
        "http://prometheus.internal:9090",
        "sum(retry_total)",
    )
    assert (apm.id, apm.kind, apm.expect.comparison()) == (
        "apm-errors",
        "elasticsearch",
        ("equals", "faults_injected"),
    )
    assert apm.elasticsearch is not None
    assert apm.elasticsearch.index == "logs-apm.error-*"
    assert apm.elasticsearch.query == {"term": {"service.name": "automation"}}
    assert (alert.id, alert.kind, alert.expect.comparison()) == ("incident-alert", "alerts", ("at_least", 1))
    assert alert.alerts is not None and alert.alerts.labels == {"alertname": "RetryBurst"}

    assert (scenario.guardrails.max_duration, scenario.guardrails.stop_after_failed_runs) == (2700.0, 2)


def test_a_minimal_scenario_gets_the_documented_defaults() -> None:
    scenario = parse(MINIMAL)

    assert (scenario.description, scenario.environment, scenario.runs, scenario.cooldown) == ("", "", 1, 0.0)
    assert scenario.target.workdir == SOURCE.parent
    assert (scenario.target.env, scenario.target.timeout) == ({}, 600.0)
    assert scenario.faults == [] and scenario.evidence is None
    retry = scenario.expect.retry
    assert (scenario.expect.exit_code, retry.on, retry.max_attempts, retry.honor_retry_after) == (
        0,
        [502, 503, 504],
        4,
        True,
    )
    assert retry.backoff.model_dump() == {
        "base": 1.0,
        "factor": 2.0,
        "max": 30.0,
        "jitter": "none",
        "jitter_max": 0.0,
        "first_retry": "nominal",
    }
    assert retry.tolerance.model_dump() == {"abs": 0.25, "rel": 0.10}
    assert scenario.success.model_dump() == {
        "success_rate": 1.0,
        "recovery_max": None,
        "recovery_mean_max": None,
    }
    assert scenario.guardrails.model_dump() == {"max_duration": 2700.0, "stop_after_failed_runs": None}


def test_fault_and_evidence_defaults() -> None:
    scenario = parse(
        minimal_with("""
        faults: [{id: any, respond: {status: 503}, when: {every_nth: 3}}]
        evidence: {checks: [{id: alert, alerts: {labels: {alertname: X}}, expect: {at_least: 1}}]}
    """)
    )

    [fault] = scenario.faults
    assert (fault.match.method, fault.match.path, fault.delay) == (None, "*", 0.0)
    assert (fault.respond.headers, fault.respond.body, fault.when.every_nth) == ({}, "", 3)
    assert scenario.evidence is not None
    assert scenario.evidence.model_dump(exclude={"checks"}) == {
        "window": {"pad_before": 60.0, "pad_after": 120.0},
        "settle": 30.0,
        "poll": {"every": 10.0, "attempts": 6},
    }


def test_yaml_on_stays_a_key_and_yes_no_are_not_booleans() -> None:
    scenario = parse(
        minimal_with("""
        environment: no
        expect: {retry: {on: [503]}}
    """)
    )
    assert scenario.expect.retry.on == [503]
    assert scenario.environment == "no"


def test_a_scenario_is_frozen() -> None:
    scenario = parse(MINIMAL)
    with pytest.raises(ValidationError):
        scenario.runs = 3  # type: ignore[misc]


def test_summary_is_one_line_for_lists() -> None:
    assert load_scenario(ISSUE_EXAMPLE).summary() == (
        "automation-v1.2 (qa): Script v1.2 recovers from upstream 504s with exponential back-off"
        " — 5 runs, 1 fault"
    )
    folded = parse(minimal_with("description: |\n  two\n  lines\n"))
    assert folded.summary() == "smoke: two lines — 1 run, 0 faults"


# ---- targets -----------------------------------------------------------------------------------


HTTP_TARGET = """
name: http-job
upstream: https://jobs.internal
target:
  timeout: 5m
  http:
    trigger: {url: "{proxy_url}/v1/jobs", json: {kind: export, rows: [1, 2]}, headers: {X-Team: ops}}
    poll:
      url: "{proxy_url}/v1/jobs/latest"
      every: 2s
      until: {status: 200, json_field: state, equals: done}
"""


def test_an_http_target_parses() -> None:
    target = parse(HTTP_TARGET).target

    assert target.kind == "http" and target.command is None and target.timeout == 300.0
    assert target.http is not None and target.http.poll is not None
    trigger = target.http.trigger
    assert (trigger.method, trigger.url) == ("POST", "{proxy_url}/v1/jobs")
    assert trigger.json_body == {"kind": "export", "rows": [1, 2]}
    assert trigger.headers == {"X-Team": "ops"}
    poll = target.http.poll
    assert (poll.url, poll.every) == ("{proxy_url}/v1/jobs/latest", 2.0)
    assert (poll.until.status, poll.until.json_field, poll.until.equals) == (200, "state", "done")


def test_an_http_target_without_poll_and_with_a_get_trigger() -> None:
    scenario = parse("""
        name: ping
        upstream: http://up
        target: {http: {trigger: {method: get, url: "http://127.0.0.1:9000/run"}}}
    """)
    assert scenario.target.http is not None
    assert scenario.target.http.poll is None
    assert scenario.target.http.trigger.method == "GET"
    assert scenario.target.http.trigger.json_body is None


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("{timeout: 1m}", "target: needs exactly one of command or http"),
        (
            "{command: [a], http: {trigger: {url: 'http://x'}}}",
            "target: needs exactly one of command or http (got command and http)",
        ),
        (
            "{http: {trigger: {url: 'http://x'}}, env: {A: b}}",
            "target: workdir and env only apply to command",
        ),
        (
            "{command: 'python3 job.py --retries 3'}",
            "target.command: must be a list of arguments, not a shell string",
        ),
        ("{command: []}", "target.command: must not be empty"),
        ("{command: [a, [b]]}", "target.command[1]: must be text"),
        ("{command: [a], timeout: 0s}", "target.timeout: must be greater than 0"),
        (
            "{http: {trigger: {url: 'ftp://x'}}}",
            "target.http.trigger.url: must be an http:// or https:// URL",
        ),
        (
            "{http: {trigger: {url: '{proxy_url}/{run}'}}}",
            "target.http.trigger.url: uses the unknown placeholder {run}; the only known one is {proxy_url}",
        ),
        (
            "{http: {trigger: {url: 'http://x', json: 3}}}",
            "target.http.trigger.json: must be a JSON object or array",
        ),
        (
            "{http: {trigger: {url: 'http://x', method: 'PO ST'}}}",
            "target.http.trigger.method: must be an HTTP method such as GET or POST",
        ),
        (
            "{http: {trigger: {url: 'http://x'}, poll: {url: 'http://x', until: {}}}}",
            "target.http.poll.until: needs status, json_field with equals, or both",
        ),
        (
            "{http: {trigger: {url: 'http://x'}, poll: {url: 'http://x', until: {json_field: state}}}}",
            "target.http.poll.until: json_field needs equals, the value to wait for",
        ),
        (
            "{http: {trigger: {url: 'http://x'}, poll: {url: 'http://x', until: {status: 200, equals: 1}}}}",
            "target.http.poll.until: equals needs json_field, the field to compare",
        ),
        (
            "{http: {trigger: {url: 'http://x'}, "
            "poll: {url: 'http://x', until: {json_field: a, equals: [1]}}}}",
            "target.http.poll.until.equals: must be a single value: text, a number, true, false or null",
        ),
        (
            "{http: {trigger: {url: 'http://x'}, poll: {url: 'http://x'}}}",
            "target.http.poll.until: is required",
        ),
    ],
)
def test_target_mistakes_are_named(target: str, error: str) -> None:
    assert errors_of(f"name: t\nupstream: http://up\ntarget: {target}\n") == [error]


def test_a_poll_may_wait_for_a_json_null() -> None:
    scenario = parse("""
        name: t
        upstream: http://up
        target:
          http:
            trigger: {url: "http://x"}
            poll: {url: "http://x", until: {json_field: error, equals: null}}
    """)
    assert scenario.target.http is not None and scenario.target.http.poll is not None
    assert scenario.target.http.poll.until.equals is None


def test_env_placeholders_are_filled_per_run() -> None:
    target = load_scenario(ISSUE_EXAMPLE).target

    env = target.render_env(proxy_url="http://127.0.0.1:41234", rehearsal_id="r-7f3a", run=3)

    assert env == {"API_URL": "http://127.0.0.1:41234", "REHEARSAL_ID": "r-7f3a", "REHEARSAL_RUN": "3"}


def test_env_values_keep_literal_json_and_numbers_become_text() -> None:
    target = parse(
        minimal_with("""
        target:
          command: [job]
          env: {CONFIG: '{"url": "{proxy_url}/v1"}', PORT: 8080}
    """).replace("target: {command: [python3, job.py]}\n", "")
    ).target

    env = target.render_env(proxy_url="http://127.0.0.1:5000", rehearsal_id="r1", run=1)

    assert env == {"CONFIG": '{"url": "http://127.0.0.1:5000/v1"}', "PORT": "8080"}


def test_an_unknown_env_placeholder_names_the_variable() -> None:
    errors = errors_of("""
        name: t
        upstream: http://up
        target: {command: [job], env: {OK: "{run}", API_URL: "{proxy}/v1"}}
    """)
    assert errors == [
        "target.env.API_URL: uses the unknown placeholder {proxy}; "
        "the known ones are {proxy_url}, {rehearsal_id} and {run}"
    ]


def test_fill_placeholders_leaves_other_braces_alone() -> None:
    filled = fill_placeholders("{proxy_url}/{run}/{other}/{}", proxy_url="http://p", rehearsal_id="r", run=2)
    assert filled == "http://p/2/{other}/{}"


@pytest.mark.parametrize(
    ("workdir", "resolved"),
    [
        (".", SOURCE.parent),
        ("../automation", Path("/srv/iris/scenarios/../automation")),
        ("bin", Path("/srv/iris/scenarios/bin")),
        ("/opt/jobs", Path("/opt/jobs")),
    ],
)
def test_workdir_is_relative_to_the_scenario_file(workdir: str, resolved: Path) -> None:
    scenario = parse(f"name: t\nupstream: http://up\ntarget: {{command: [job], workdir: '{workdir}'}}\n")
    assert scenario.target.workdir == resolved


def test_workdir_follows_the_file_when_loaded_from_disk(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    path = tmp_path / "nested" / "job.yml"
    path.write_text("name: job\nupstream: http://up\ntarget: {command: [job], workdir: scripts}\n")

    assert load_scenario(path).target.workdir == tmp_path / "nested" / "scripts"


def test_a_target_built_in_code_keeps_its_workdir() -> None:
    assert Target(command=["job"], workdir=Path("rel")).workdir == Path("rel")


# ---- faults ------------------------------------------------------------------------------------


def fault_errors(fault: str) -> list[str]:
    return errors_of(minimal_with(f"faults:\n  - {fault}\n"))


def test_the_issue_example_error_for_attempts() -> None:
    assert fault_errors("{id: f, respond: {status: 504}, when: {attempts: [0, 2]}}") == [
        "faults[0].when.attempts: must be a list of positive integers"
    ]


@pytest.mark.parametrize("attempts", ["[]", "1", "[1.5]", "['1']", "[true]", "[-1]", "{a: 1}"])
def test_attempts_must_be_positive_integers(attempts: str) -> None:
    assert fault_errors(f"{{id: f, respond: {{status: 504}}, when: {{attempts: {attempts}}}}}") == [
        "faults[0].when.attempts: must be a list of positive integers"
    ]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("{respond: {status: 504}, when: {every_nth: 2}}", "faults[0].id: is required"),
        (
            "{id: 'has space', respond: {status: 504}, when: {every_nth: 2}}",
            "faults[0].id: must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        ),
        ("{id: f, when: {every_nth: 2}}", "faults[0].respond: is required"),
        ("{id: f, respond: {status: 504}}", "faults[0].when: is required"),
        (
            "{id: f, respond: {status: 99}, when: {every_nth: 2}}",
            "faults[0].respond.status: must be at least 100",
        ),
        (
            "{id: f, respond: {status: 600}, when: {every_nth: 2}}",
            "faults[0].respond.status: must be at most 599",
        ),
        (
            "{id: f, respond: {status: gateway}, when: {every_nth: 2}}",
            "faults[0].respond.status: must be a whole number",
        ),
        (
            "{id: f, respond: {status: 504}, when: {}}",
            "faults[0].when: needs exactly one of attempts, probability or every_nth",
        ),
        (
            "{id: f, respond: {status: 504}, when: {attempts: [1], every_nth: 2}}",
            "faults[0].when: needs exactly one of attempts, probability or every_nth "
            "(got attempts and every_nth)",
        ),
        (
            "{id: f, respond: {status: 504}, when: {probability: 0}}",
            "faults[0].when.probability: must be greater than 0",
        ),
        (
            "{id: f, respond: {status: 504}, when: {probability: 1.5}}",
            "faults[0].when.probability: must be at most 1",
        ),
        (
            "{id: f, respond: {status: 504}, when: {every_nth: 0}}",
            "faults[0].when.every_nth: must be at least 1",
        ),
        (
            "{id: f, respond: {status: 504}, when: {every_nth: 2, seed: 7}}",
            "faults[0].when: seed only applies with probability",
        ),
        (
            "{id: f, respond: {status: 504}, when: {every_nth: 2}, delay: -1s}",
            "faults[0].delay: '-1s' is negative; a duration is 0 or more",
        ),
        (
            "{id: f, respond: {status: 504}, when: {every_nth: 2}, match: {verb: GET}}",
            "faults[0].match.verb: is not a known field",
        ),
        (
            "{id: f, respond: {status: 504, headers: {Retry-After: 'Wed, 21 Oct 2015 07:28:00 GMT'}}, "
            "when: {every_nth: 2}}",
            "faults[0].respond.headers: Retry-After is an HTTP date; use seconds, such as 2",
        ),
        (
            "{id: f, respond: {status: 504, headers: {retry-after: soon}}, when: {every_nth: 2}}",
            "faults[0].respond.headers: Retry-After must be a whole number of seconds, such as 2",
        ),
    ],
)
def test_fault_mistakes_are_named(fault: str, error: str) -> None:
    assert fault_errors(fault) == [error]


def test_probability_with_a_seed_and_every_nth() -> None:
    scenario = parse(
        minimal_with("""
        faults:
          - {id: flaky, match: {method: get}, respond: {status: 503}, when: {probability: 0.3, seed: 7}}
          - {id: third, respond: {status: 502}, when: {every_nth: 3}, delay: 250ms}
    """)
    )
    flaky, third = scenario.faults
    assert (flaky.match.method, flaky.when.probability, flaky.when.seed) == ("GET", 0.3, 7)
    assert (third.when.every_nth, third.delay) == (3, 0.25)


def test_duplicate_fault_ids_are_refused() -> None:
    errors = errors_of(
        minimal_with("""
        faults:
          - {id: gw, respond: {status: 504}, when: {attempts: [1]}}
          - {id: other, respond: {status: 503}, when: {attempts: [1]}}
          - {id: gw, respond: {status: 502}, when: {attempts: [2]}}
    """)
    )
    assert errors == ["faults: id 'gw' is used by faults[0] and faults[2]; ids must be unique"]


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": " 120 "}, 120.0),
        ({"RETRY-AFTER": "0"}, 0.0),
        ({"Content-Type": "text/plain"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_case_insensitively(headers: dict[str, str], seconds: float | None) -> None:
    fault = Fault(id="f", respond=Respond(status=503, headers=headers), when=When(attempts=[1]))
    assert fault.retry_after_seconds() == seconds


def test_a_numeric_retry_after_in_yaml_is_read_as_seconds() -> None:
    scenario = parse(
        minimal_with("""
        faults: [{id: busy, respond: {status: 503, headers: {Retry-After: 3}}, when: {attempts: [1]}}]
    """)
    )
    assert scenario.faults[0].respond.headers == {"Retry-After": "3"}
    assert scenario.faults[0].retry_after_seconds() == 3.0


# ---- expectations, evidence, guardrails, top level ---------------------------------------------


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ("runs: 0", "runs: must be at least 1"),
        ("runs: 1001", "runs: must be at most 1000"),
        ("runs: five", "runs: must be a whole number"),
        ("cooldown: 3x", "cooldown: '3x' is not a duration such as 250ms, 30s, 3m30s or 1h"),
        ("cooldown: [1]", "cooldown: must be a duration such as 250ms, 30s, 3m30s or 1h"),
        ("description: [a]", "description: must be text"),
        ("color: blue", "color: is not a known field"),
        ("source: /etc/passwd", "source: is not a known field"),
        ("faults: {id: f}", "faults: must be a list"),
        ("expect: {exit_code: zero}", "expect.exit_code: must be a whole number"),
        ("expect: {retry: {on: [503, 700]}}", "expect.retry.on[1]: must be at most 599"),
        ("expect: {retry: {max_attempts: 0}}", "expect.retry.max_attempts: must be at least 1"),
        (
            "expect: {retry: {honor_retry_after: maybe}}",
            "expect.retry.honor_retry_after: must be true or false",
        ),
        (
            "expect: {retry: {backoff: {jitter: random}}}",
            "expect.retry.backoff.jitter: must be one of 'none', 'additive' or 'full'",
        ),
        (
            "expect: {retry: {backoff: {first_retry: now}}}",
            "expect.retry.backoff.first_retry: must be one of 'nominal' or 'zero'",
        ),
        ("expect: {retry: {backoff: {factor: 0.5}}}", "expect.retry.backoff.factor: must be at least 1"),
        (
            "expect: {retry: {backoff: {jitter_max: 1s}}}",
            "expect.retry.backoff: jitter_max only applies with jitter: additive",
        ),
        ("expect: {retry: {tolerance: {rel: -0.1}}}", "expect.retry.tolerance.rel: must be at least 0"),
        ("success: {success_rate: 1.2}", "success.success_rate: must be at most 1"),
        (
            "success: {recovery_max: soon}",
            "success.recovery_max: 'soon' is not a duration such as 250ms, 30s, 3m30s or 1h",
        ),
        ("guardrails: {max_duration: 0}", "guardrails.max_duration: must be greater than 0"),
        ("guardrails: {stop_after_failed_runs: 0}", "guardrails.stop_after_failed_runs: must be at least 1"),
        ("evidence: {}", "evidence.checks: is required"),
        ("evidence: {checks: []}", "evidence.checks: must not be empty"),
        (
            "evidence: {poll: {attempts: 0}, "
            "checks: [{id: a, alerts: {labels: {x: y}}, expect: {at_least: 1}}]}",
            "evidence.poll.attempts: must be at least 1",
        ),
        (
            "evidence: {checks: [{id: a, expect: {at_least: 1}}]}",
            "evidence.checks[0]: needs exactly one of prometheus, elasticsearch or alerts",
        ),
        (
            "evidence: {checks: [{id: a, alerts: {labels: {x: y}}, "
            "prometheus: {url: 'http://p', counter: c}, expect: {at_least: 1}}]}",
            "evidence.checks[0]: needs exactly one of prometheus, elasticsearch or alerts "
            "(got prometheus and alerts)",
        ),
        (
            "evidence: {checks: [{id: a, alerts: {labels: {x: y}}, expect: {}}]}",
            "evidence.checks[0].expect: needs exactly one of delta_equals, equals or at_least",
        ),
        (
            "evidence: {checks: [{id: a, alerts: {labels: {x: y}}, expect: {equals: some}}]}",
            "evidence.checks[0].expect.equals: must be a whole number of 0 or more, or faults_injected",
        ),
        (
            "evidence: {checks: [{id: a, alerts: {labels: {}}, expect: {at_least: 1}}]}",
            "evidence.checks[0].alerts.labels: must not be empty",
        ),
        (
            "evidence: {checks: [{id: a, prometheus: {url: 'http://admin:pw@prom', counter: c}, "
            "expect: {at_least: 1}}]}",
            "evidence.checks[0].prometheus.url: must not contain a user name or password",
        ),
        (
            "evidence: {checks: [{id: a, elasticsearch: {url: 'http://es', index: i, query: [1]}, "
            "expect: {at_least: 1}}]}",
            "evidence.checks[0].elasticsearch.query: must be a JSON object",
        ),
        (
            "evidence: {checks: [{id: a, alerts: {labels: {x: y}}, expect: {at_least: 1}}, "
            "{id: a, alerts: {labels: {x: z}}, expect: {at_least: 2}}]}",
            "evidence.checks: id 'a' is used by checks[0] and checks[1]; ids must be unique",
        ),
    ],
)
def test_section_mistakes_are_named(extra: str, error: str) -> None:
    assert errors_of(minimal_with(extra + "\n")) == [error]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("automation-v1.2", True),
        ("a", True),
        ("0_job", True),
        ("x" * 64, True),
        ("Automation", False),
        ("-job", False),
        ("has space", False),
        ("x" * 65, False),
        ("", False),
        ("job\n", False),
    ],
)
def test_names_are_short_lower_case_slugs(name: str, ok: bool) -> None:
    text = MINIMAL.replace("name: smoke", f"name: {name!r}".replace("'", '"'))
    if ok:
        assert parse(text).name == name
    else:
        assert errors_of(text) == [
            "name: must be 1 to 64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        ]


@pytest.mark.parametrize(
    ("upstream", "stored"),
    [
        ("http://api.internal:8080/", "http://api.internal:8080"),
        ("https://api.example.com/base", "https://api.example.com/base"),
    ],
)
def test_upstream_is_an_http_url_without_a_trailing_slash(upstream: str, stored: str) -> None:
    assert parse(MINIMAL.replace("http://api.internal:8080", upstream)).upstream == stored


@pytest.mark.parametrize("upstream", ["api.internal:8080", "ftp://api", "http://", "http://a b"])
def test_upstream_must_be_an_http_url(upstream: str) -> None:
    assert errors_of(MINIMAL.replace("http://api.internal:8080", f"'{upstream}'")) == [
        "upstream: must be an http:// or https:// URL"
    ]


def test_a_missing_required_field_is_named() -> None:
    assert errors_of("description: nothing else\n") == [
        "name: is required",
        "target: is required",
        "upstream: is required",
    ]


def test_every_problem_is_reported_at_once() -> None:
    errors = errors_of("""
        name: Bad Name
        runs: 0
        target: {command: "python3 job.py", env: {API: "{proxy}"}}
        upstream: qa-api
        faults:
          - {id: a, respond: {status: 600}, when: {attempts: [0]}}
          - {id: b, respond: {status: 504}, when: {every_nth: 2}, typo: 1}
        expect: {retry: {backoff: {jitter: sometimes}}}
        guardrails: {max_duration: soon}
    """)
    assert errors == [
        "name: must be 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
        "runs: must be at least 1",
        "target.command: must be a list of arguments, not a shell string",
        "target.env.API: uses the unknown placeholder {proxy}; the known ones are {proxy_url}, "
        "{rehearsal_id} and {run}",
        "upstream: must be an http:// or https:// URL",
        "faults[0].respond.status: must be at most 599",
        "faults[0].when.attempts: must be a list of positive integers",
        "faults[1].typo: is not a known field",
        "expect.retry.backoff.jitter: must be one of 'none', 'additive' or 'full'",
        "guardrails.max_duration: 'soon' is not a duration such as 250ms, 30s, 3m30s or 1h",
    ]


def test_a_bad_mapping_key_is_named() -> None:
    assert errors_of("name: t\nupstream: http://up\ntarget: {command: [job], env: {1: x}}\n") == [
        "target.env: the key 1 must be text"
    ]


def test_a_section_that_is_not_a_mapping() -> None:
    assert errors_of("name: t\nupstream: http://up\ntarget: python3 job.py\n") == [
        "target: must be a mapping of keys to values"
    ]


# ---- YAML and files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "name: t\ntarget: {command: [job]\nupstream: x\n",
            "line 3: the YAML is invalid: expected ',' or '}', but got '<scalar>'",
        ),
        ("name: t\nruns: 2\nruns: 3\n", "line 3: the YAML is invalid: the key 'runs' appears twice"),
        (
            "name: t\n\truns: 2\n",
            "line 2: the YAML is invalid: found character '\\t' that cannot start any token",
        ),
        ("", "the file is empty; a scenario needs at least name, target and upstream"),
        ("# only a comment\n", "the file is empty; a scenario needs at least name, target and upstream"),
        ("- name: t\n", "the top level must be a mapping with keys such as name, target and upstream"),
    ],
)
def test_yaml_problems_are_one_error_naming_the_line(text: str, error: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, SOURCE)
    assert caught.value.errors == [error]


def test_yaml_merge_keys_are_not_duplicates() -> None:
    scenario = parse("""
        name: merged
        upstream: http://up
        target: {command: [job]}
        faults:
          - &base {id: one, respond: {status: 504}, when: {attempts: [1]}}
          - {<<: *base, id: two}
    """)
    assert [fault.id for fault in scenario.faults] == ["one", "two"]


def test_a_missing_file_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "nope.yml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.errors == [f"{path} does not exist."]
    assert caught.value.path == path


def test_an_unreadable_path_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path)
    assert caught.value.errors == [f"{tmp_path} cannot be read: Is a directory."]


def test_a_file_that_is_not_utf8_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.errors == [f"{path} is not UTF-8 text."]


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yml"
    with path.open("wb") as huge:
        huge.truncate(60_000_000)  # 60 MB took 48 s and 370 MB to validate before the cap
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.errors == [f"{path} is larger than 256 kB."]


def write(folder: Path, file_name: str, name: str) -> None:
    (folder / file_name).write_text(f"name: {name}\nupstream: http://up\ntarget: {{command: [job]}}\n")


def test_find_scenarios_lists_yml_and_yaml_files_sorted_with_their_problems(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", "beta")
    write(tmp_path, "a.yml", "alpha")
    (tmp_path / "c.yml").write_text("name: Broken\n")
    (tmp_path / "notes.txt").write_text("not a scenario")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "d.yml", "delta")

    found = find_scenarios(tmp_path)

    assert [path.name for path, _ in found] == ["a.yml", "b.yaml", "c.yml"]
    alpha, beta, broken = (item for _, item in found)
    assert isinstance(alpha, Scenario) and alpha.name == "alpha" and alpha.source == tmp_path / "a.yml"
    assert isinstance(beta, Scenario) and beta.name == "beta"
    assert isinstance(broken, ScenarioError) and broken.path == tmp_path / "c.yml"
    assert "target: is required" in broken.errors


def test_find_scenarios_in_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        find_scenarios(tmp_path / "scenarios")
    assert caught.value.errors == [f"the scenarios folder {tmp_path / 'scenarios'} does not exist."]


def test_scenario_by_name_uses_the_name_field(tmp_path: Path) -> None:
    write(tmp_path, "first.yml", "automation-v1.2")
    write(tmp_path, "second.yml", "nightly")

    scenario = scenario_by_name(tmp_path, "automation-v1.2")

    assert scenario.source == tmp_path / "first.yml"


def test_an_unknown_scenario_name_lists_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path, "z.yml", "zulu")
    write(tmp_path, "a.yml", "alpha")
    with pytest.raises(ScenarioError) as caught:
        scenario_by_name(tmp_path, "automation")
    assert str(caught.value) == "no scenario named 'automation'; known: alpha, zulu"


def test_an_empty_folder_knows_no_scenarios(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_by_name(tmp_path, "automation")
    assert str(caught.value) == "no scenario named 'automation'; known: none"


def test_a_broken_file_named_like_the_scenario_reports_its_own_errors(tmp_path: Path) -> None:
    write(tmp_path, "nightly.yml", "nightly")
    with (tmp_path / "nightly.yml").open("a") as file:
        file.write("runs: 0\n")
    with pytest.raises(ScenarioError) as caught:
        scenario_by_name(tmp_path, "nightly")
    assert caught.value.errors == ["runs: must be at least 1"]
    assert caught.value.path == tmp_path / "nightly.yml"


def test_two_files_with_the_same_name_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", "nightly")
    write(tmp_path, "b.yml", "nightly")
    with pytest.raises(ScenarioError) as caught:
        scenario_by_name(tmp_path, "nightly")
    assert str(caught.value) == "several scenarios are named 'nightly' (a.yml, b.yml); names must be unique"
