"""The scenario file: models with documented defaults, its loader, and every problem with its field path."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from bot.durations import Duration

PLACEHOLDERS = ("proxy_url", "rehearsal_id", "run")
# Only identifier-shaped braces are placeholders, so a JSON value such as {"a": 1} passes untouched.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")  # always fullmatch: "$" lets a "\n" through
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SECONDS = re.compile(r"[0-9]+")
_CONTEXT_SOURCE = "scenario_file"  # validation context key: the file being loaded
_REQUIRED = "name, target and upstream"


MAX_SCENARIO_BYTES = 256_000  # a scenario is a page of YAML; the example is 1.6 kB


class ScenarioError(Exception):
    """A scenario that cannot be used; `errors` lists every problem as "<field path>: <reason>"."""

    def __init__(self, errors: list[str], path: Path | None = None) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        self.path = path


# ---- field types -------------------------------------------------------------------------------


def _known_placeholders(text: str, known: Sequence[str] = PLACEHOLDERS) -> str:
    unknown = sorted({name for name in _PLACEHOLDER.findall(text) if name not in known})
    if unknown:
        listed = " and ".join(", ".join(f"{{{name}}}" for name in known).rsplit(", ", 1))
        which = "the only known one is" if len(known) == 1 else "the known ones are"
        raise ValueError(f"uses the unknown placeholder {{{unknown[0]}}}; {which} {listed}")
    return text


def fill_placeholders(text: str, *, proxy_url: str, rehearsal_id: str, run: int) -> str:
    """`text` with {proxy_url}, {rehearsal_id} and {run} replaced by this run's values."""
    values = {"proxy_url": proxy_url, "rehearsal_id": rehearsal_id, "run": str(run)}
    return _PLACEHOLDER.sub(lambda found: values.get(found.group(1), found.group(0)), text)


def _as_text(value: Any) -> Any:
    """YAML reads `Retry-After: 2` or `PORT: 8080` as numbers; headers and env values are text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _http_url(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        raise ValueError("must be an http:// or https:// URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", value):
        raise ValueError("must be an http:// or https:// URL")
    if "@" in parts.netloc:  # URLs end up in logs and Slack; credentials belong in settings
        raise ValueError("must not contain a user name or password")
    return value


def _target_url(value: str) -> str:
    """Target URLs usually go through the fault proxy, whose address is only known at run time."""
    _known_placeholders(value, known=("proxy_url",))
    return value if value.startswith("{proxy_url}") else _http_url(value)


def _positive_integers(value: Any) -> Any:
    numbers = value if isinstance(value, list) else []
    if not numbers or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in numbers):
        raise ValueError("must be a list of positive integers")
    return value


def _is_json(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_is_json(item) for item in value)
    return value is None or isinstance(value, str | int | float | bool)


def _json_document(value: Any) -> Any:
    if value is not None and not (isinstance(value, dict | list) and _is_json(value)):
        raise ValueError("must be a JSON object or array")
    return value


def _json_object(value: Any) -> Any:
    if not (isinstance(value, dict) and _is_json(value)):
        raise ValueError("must be a JSON object")
    return value


def _scalar(value: Any) -> Any:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError("must be a single value: text, a number, true, false or null")
    return value


def _evidence_target(value: Any) -> Any:
    if value == "faults_injected" or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise ValueError("must be a whole number of 0 or more, or faults_injected")


def _identifier(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError("must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return value


def _http_method(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]+", value):
        raise ValueError("must be an HTTP method such as GET or POST")
    return value.upper()


Text = Annotated[str, BeforeValidator(_as_text)]
EnvValue = Annotated[str, BeforeValidator(_as_text), AfterValidator(_known_placeholders)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
TargetUrl = Annotated[str, AfterValidator(_target_url)]
Identifier = Annotated[str, AfterValidator(_identifier)]
HttpMethod = Annotated[str, AfterValidator(_http_method)]
Status = Annotated[int, Field(ge=100, le=599)]
AttemptNumbers = Annotated[list[int], BeforeValidator(_positive_integers)]
JsonDocument = Annotated[dict[str, Any] | list[Any] | None, BeforeValidator(_json_document)]
JsonObject = Annotated[dict[str, Any], BeforeValidator(_json_object)]
Scalar = Annotated[str | int | float | bool | None, BeforeValidator(_scalar)]
EvidenceTarget = Annotated[int | Literal["faults_injected"], BeforeValidator(_evidence_target)]


def _exactly_one(model: BaseModel, names: Sequence[str]) -> None:
    given = [name for name in names if getattr(model, name) is not None]
    if len(given) != 1:
        listed = ", ".join(names[:-1]) + " or " + names[-1]
        found = f" (got {' and '.join(given)})" if given else ""
        raise ValueError(f"needs exactly one of {listed}{found}")


def _unique_ids(items: Sequence[Fault | EvidenceCheck], field: str) -> None:
    counts = Counter(item.id for item in items)
    for duplicate in (item_id for item_id, count in counts.items() if count > 1):
        where = " and ".join(f"{field}[{i}]" for i, item in enumerate(items) if item.id == duplicate)
        raise ValueError(f"id {duplicate!r} is used by {where}; ids must be unique")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- target ------------------------------------------------------------------------------------


class PollUntil(_Section):
    """When polling stops: every given condition must hold; give status, json_field with equals, or both."""

    status: Status | None = None  # the poll response's HTTP status; default: not checked
    json_field: str | None = None  # dotted path into the JSON body, such as "job.state"; default: none
    equals: Scalar = None  # the value json_field must have; required with json_field

    @model_validator(mode="after")
    def _has_a_condition(self) -> Self:
        if self.status is None and self.json_field is None:
            raise ValueError("needs status, json_field with equals, or both")
        if self.json_field is not None and "equals" not in self.model_fields_set:
            raise ValueError("json_field needs equals, the value to wait for")
        if self.json_field is None and "equals" in self.model_fields_set:
            raise ValueError("equals needs json_field, the field to compare")
        return self


class HttpRequest(_Section):
    """The request that starts an HTTP target's run; the URL may start with {proxy_url}."""

    method: HttpMethod = "POST"  # stored upper-case
    url: TargetUrl  # required
    # Named json in the file; `json` itself would shadow BaseModel.json().
    json_body: JsonDocument = Field(default=None, alias="json")  # default: no body
    headers: dict[str, Text] = {}


class HttpPoll(_Section):
    """How the runner learns that an HTTP target has finished its run."""

    url: TargetUrl  # required
    every: Duration = Field(default=10.0, gt=0)  # 10 s between polls
    until: PollUntil  # required


class HttpTarget(_Section):
    """A service triggered over HTTP; without `poll` the run ends when the trigger answers."""

    trigger: HttpRequest  # required
    poll: HttpPoll | None = None


class Target(_Section):
    """What one run executes: exactly one of `command` (an argv list) or `http`."""

    command: list[Text] | None = None  # argv list, never a shell string
    # Relative to the scenario file's folder, resolved by the loader; default: that folder.
    workdir: Path = Field(default=Path("."), validate_default=True)
    env: dict[str, EnvValue] = {}  # added to the runner's environment; placeholders allowed
    timeout: Duration = Field(default=600.0, gt=0)  # per run: 10 min
    http: HttpTarget | None = None

    @field_validator("command", mode="before")
    @classmethod
    def _argv_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # a shell string would need a shell, and quoting rules nobody agrees on
            raise ValueError("must be a list of arguments, not a shell string")
        if value == []:
            raise ValueError("must not be empty")
        return value

    @field_validator("workdir")
    @classmethod
    def _relative_to_the_file(cls, workdir: Path, info: ValidationInfo) -> Path:
        source = (info.context or {}).get(_CONTEXT_SOURCE)
        if source is None or workdir.is_absolute():
            return workdir
        return Path(source).parent / workdir

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        _exactly_one(self, ("command", "http"))
        if self.http is not None and {"workdir", "env"} & self.model_fields_set:
            raise ValueError("workdir and env only apply to command")
        return self

    @property
    def kind(self) -> Literal["command", "http"]:
        return "command" if self.command is not None else "http"

    def render_env(self, proxy_url: str, rehearsal_id: str, run: int) -> dict[str, str]:
        """The declared variables with this run's placeholder values filled in."""
        return {
            name: fill_placeholders(value, proxy_url=proxy_url, rehearsal_id=rehearsal_id, run=run)
            for name, value in self.env.items()
        }


# ---- faults ------------------------------------------------------------------------------------


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            return _retry_after_seconds(value.strip())
    return None


def _retry_after_seconds(value: str) -> float:
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise ValueError("Retry-After must be a whole number of seconds, such as 2") from None
    # A date would make the expected gap depend on the proxy's wall clock; seconds are exact.
    raise ValueError("Retry-After is an HTTP date; use seconds, such as 2")


class Match(_Section):
    """Which requests a fault counts as attempts; the default matches every request."""

    method: HttpMethod | None = None  # default: any method; compared case-insensitively
    path: str = Field(default="*", min_length=1)  # fnmatch glob on the path without the query string


class Respond(_Section):
    """The response the proxy gives instead of forwarding."""

    status: Status  # required
    headers: dict[str, Text] = {}  # a Retry-After must be in seconds
    body: str = ""

    @field_validator("headers")
    @classmethod
    def _retry_after_in_seconds(cls, headers: dict[str, str]) -> dict[str, str]:
        _retry_after(headers)
        return headers


class When(_Section):
    """Which attempts are faulted: exactly one of attempts, probability (with optional seed) or every_nth."""

    attempts: AttemptNumbers | None = None  # those attempt numbers, such as [1, 2]
    probability: float | None = Field(default=None, gt=0, le=1)  # each attempt with this chance
    seed: int | None = None  # default: unseeded; with a seed a rehearsal repeats exactly
    every_nth: int | None = Field(default=None, ge=1)  # attempts n, 2n, 3n …

    @model_validator(mode="after")
    def _one_rule(self) -> Self:
        _exactly_one(self, ("attempts", "probability", "every_nth"))
        if self.seed is not None and self.probability is None:
            raise ValueError("seed only applies with probability")
        return self


class Fault(_Section):
    """One injected failure: which requests, what response, on which attempts, after what delay."""

    id: Identifier  # required, unique in the scenario
    match: Match = Match()  # default: every request
    respond: Respond  # required
    when: When  # required
    delay: Duration = 0.0  # latency before the injected response

    def retry_after_seconds(self) -> float | None:
        """Seconds announced by the injected response's Retry-After header, or None without one."""
        return _retry_after(self.respond.headers)


# ---- expectations ------------------------------------------------------------------------------


class Backoff(_Section):
    """The back-off model: the gap before retry k is b(k) = min(max, base · factor^(k−1))."""

    base: Duration = 1.0
    factor: float = Field(default=2.0, ge=1)
    max: Duration = 30.0
    jitter: Literal["none", "additive", "full"] = "none"  # exact | [b, b + jitter_max] | [0, b]
    jitter_max: Duration = 0.0  # only with jitter: additive
    first_retry: Literal["nominal", "zero"] = "nominal"  # zero: urllib3's immediate first retry

    @model_validator(mode="after")
    def _jitter_max_needs_additive(self) -> Self:
        if self.jitter_max > 0 and self.jitter != "additive":
            raise ValueError("jitter_max only applies with jitter: additive")
        return self


class Tolerance(_Section):
    """How far a gap may stray from the model: max(abs, rel × upper bound) on both ends."""

    abs: Duration = 0.25
    rel: float = Field(default=0.10, ge=0)


class RetryExpect(_Section):
    """How the target should retry."""

    on: list[Status] = [502, 503, 504]  # statuses that should be retried
    max_attempts: int = Field(default=4, ge=1)  # total, first attempt included
    backoff: Backoff = Backoff()
    honor_retry_after: bool = True  # a Retry-After replaces the model for that gap
    tolerance: Tolerance = Tolerance()


class Expect(_Section):
    """What every run should show."""

    exit_code: int = 0  # command targets only
    retry: RetryExpect = RetryExpect()


class Success(_Section):
    """The verdict's thresholds over all runs."""

    success_rate: float = Field(default=1.0, ge=0, le=1)  # share of runs that must recover
    recovery_max: Duration | None = None  # default: no limit
    recovery_mean_max: Duration | None = None  # default: no limit


# ---- evidence ----------------------------------------------------------------------------------


class Window(_Section):
    """The evidence window: the rehearsal's span widened on both sides."""

    pad_before: Duration = 60.0
    pad_after: Duration = 120.0


class EvidencePoll(_Section):
    """Outside systems lag, so checks are re-polled until they agree or attempts run out."""

    every: Duration = Field(default=10.0, gt=0)
    attempts: int = Field(default=6, ge=1)


class PrometheusSource(_Section):
    url: HttpUrl  # required
    counter: str = Field(min_length=1)  # required; read as a raw delta of two instant queries


class ElasticsearchSource(_Section):
    url: HttpUrl  # required
    index: str = Field(min_length=1)  # required, such as "logs-apm.error-*"
    query: JsonObject = {}  # default: every document in the window


class AlertsSource(_Section):
    labels: dict[str, Text] = Field(min_length=1)  # required: alerts carrying all these labels


class EvidenceExpect(_Section):
    """Exactly one of delta_equals, equals or at_least: a number or faults_injected."""

    delta_equals: EvidenceTarget | None = None
    equals: EvidenceTarget | None = None
    at_least: EvidenceTarget | None = None

    @model_validator(mode="after")
    def _one_comparison(self) -> Self:
        _exactly_one(self, ("delta_equals", "equals", "at_least"))
        return self

    def comparison(self) -> tuple[str, int | Literal["faults_injected"]]:
        """The one comparison given, as (name, expected)."""
        names = ("delta_equals", "equals", "at_least")
        name = next(name for name in names if getattr(self, name) is not None)
        return name, getattr(self, name)


class EvidenceCheck(_Section):
    """One outside system asked whether it saw what the ledger recorded: exactly one source."""

    id: Identifier  # required, unique in the scenario
    prometheus: PrometheusSource | None = None
    elasticsearch: ElasticsearchSource | None = None
    alerts: AlertsSource | None = None
    expect: EvidenceExpect  # required

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        _exactly_one(self, ("prometheus", "elasticsearch", "alerts"))
        return self

    @property
    def kind(self) -> Literal["prometheus", "elasticsearch", "alerts"]:
        if self.prometheus is not None:
            return "prometheus"
        return "elasticsearch" if self.elasticsearch is not None else "alerts"


class Evidence(_Section):
    """Optional: do outside systems agree with the ledger?"""

    window: Window = Window()
    settle: Duration = 30.0  # wait after the last run before the first check
    poll: EvidencePoll = EvidencePoll()
    checks: list[EvidenceCheck] = Field(min_length=1)  # required

    @field_validator("checks")
    @classmethod
    def _unique_check_ids(cls, checks: list[EvidenceCheck]) -> list[EvidenceCheck]:
        _unique_ids(checks, "checks")
        return checks


class Guardrails(_Section):
    """Limits that stop a rehearsal early."""

    max_duration: Duration = Field(default=2700.0, gt=0)  # the whole rehearsal: 45 min
    stop_after_failed_runs: int | None = Field(default=None, ge=1)  # default: never stop early


# ---- the scenario ------------------------------------------------------------------------------


class Scenario(_Section):
    """One scenario file. Required: name, target and upstream; everything else has a default."""

    name: str  # required: lower-case letters, digits, '.', '_', '-'; at most 64
    description: str = ""
    environment: str = ""  # free text such as "qa", shown in Slack
    runs: int = Field(default=1, ge=1, le=1000)
    cooldown: Duration = 0.0  # pause between runs
    target: Target  # required
    upstream: HttpUrl  # required: the proxy forwards everything it does not fault here
    faults: list[Fault] = []  # default: none, a baseline rehearsal
    expect: Expect = Expect()
    success: Success = Success()
    evidence: Evidence | None = None  # default: no evidence checks
    guardrails: Guardrails = Guardrails()
    source: Path | None = None  # the file it came from; set by the loader, never written in the file

    @field_validator("name")
    @classmethod
    def _name_shape(cls, name: str) -> str:
        if not _NAME.fullmatch(name):
            raise ValueError(
                "must be 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        return name

    @field_validator("upstream")
    @classmethod
    def _no_trailing_slash(cls, upstream: str) -> str:
        return upstream.rstrip("/")  # request paths start with "/" and are appended as they are

    @field_validator("faults")
    @classmethod
    def _unique_fault_ids(cls, faults: list[Fault]) -> list[Fault]:
        _unique_ids(faults, "faults")
        return faults

    @field_validator("source", mode="before")
    @classmethod
    def _not_in_the_file(cls, value: Any, info: ValidationInfo) -> Any:
        if _CONTEXT_SOURCE in (info.context or {}):
            raise ValueError("is not a known field")
        return value

    def summary(self) -> str:
        """One line for lists: name, environment, description, runs and faults."""
        head = f"{self.name} ({self.environment})" if self.environment else self.name
        counts = f"{_plural(self.runs, 'run')}, {_plural(len(self.faults), 'fault')}"
        description = " ".join(self.description.split())
        return f"{head}: {description} — {counts}" if description else f"{head} — {counts}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# ---- loading -----------------------------------------------------------------------------------


class _ScenarioLoader(yaml.SafeLoader):
    """YAML 1.2 booleans (so `on:` stays a key, not True) and no silently repeated keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ScenarioLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_scenario(text: str, source: Path) -> Scenario:
    """The scenario in `text`, read from `source`; raises ScenarioError listing every problem."""
    raw = _read_yaml(text, source)
    try:
        scenario = Scenario.model_validate(raw, context={_CONTEXT_SOURCE: source})
    except ValidationError as exc:
        raise ScenarioError([_describe(error) for error in exc.errors(include_url=False)], source) from None
    return scenario.model_copy(update={"source": source})


def _read_yaml(text: str, source: Path) -> dict[str, Any]:
    try:
        raw = yaml.load(text, Loader=_ScenarioLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        line = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark else ""
        raise ScenarioError([f"{line}the YAML is invalid: {exc.problem}"], source) from None
    except yaml.YAMLError as exc:  # e.g. a control character, which carries no line
        raise ScenarioError([f"the YAML is invalid: {exc}"], source) from None
    if raw is None:
        raise ScenarioError([f"the file is empty; a scenario needs at least {_REQUIRED}"], source)
    if not isinstance(raw, dict):
        raise ScenarioError([f"the top level must be a mapping with keys such as {_REQUIRED}"], source)
    return raw


def load_scenario(path: Path) -> Scenario:
    """The scenario in the file at `path`; raises ScenarioError when it cannot be read or is invalid."""
    try:
        # At most one byte past the limit is read: a huge file, or a device such as /dev/zero whose
        # size says nothing, is never loaded.
        with path.open("rb") as handle:
            raw = handle.read(MAX_SCENARIO_BYTES + 1)
        if len(raw) > MAX_SCENARIO_BYTES:
            raise ScenarioError([f"{path} is larger than {MAX_SCENARIO_BYTES // 1000} kB."], path)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError([f"{path} does not exist."], path) from None
    except UnicodeDecodeError:
        raise ScenarioError([f"{path} is not UTF-8 text."], path) from None
    except OSError as exc:
        raise ScenarioError([f"{path} cannot be read: {exc.strerror}."], path) from None
    return parse_scenario(text, path)


def find_scenarios(folder: Path) -> list[tuple[Path, Scenario | ScenarioError]]:
    """Every *.yml and *.yaml file in `folder` (not below it), sorted by file name, loaded or failed."""
    if not folder.is_dir():
        raise ScenarioError([f"the scenarios folder {folder} does not exist."], folder)
    paths = sorted(
        (path for path in folder.iterdir() if path.suffix in (".yml", ".yaml") and path.is_file()),
        key=lambda path: path.name,
    )
    return [(path, _load_or_error(path)) for path in paths]


def _load_or_error(path: Path) -> Scenario | ScenarioError:
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        return exc


def is_scenario_name(name: str) -> bool:
    """Whether `name` could name a scenario at all: 1 to 64 of a-z, 0-9, '.', '_', '-'."""
    return _NAME.fullmatch(name) is not None


def scenario_by_name(folder: Path, name: str) -> Scenario:
    """The one valid scenario in `folder` called `name` (its `name:` field, not its file name)."""
    found = find_scenarios(folder)
    named = [(path, item) for path, item in found if isinstance(item, Scenario) and item.name == name]
    if len(named) > 1:
        files = ", ".join(path.name for path, _ in named)
        raise ScenarioError([f"several scenarios are named {name!r} ({files}); names must be unique"], folder)
    if named:
        return named[0][1]
    for path, item in found:  # a broken file is most likely the one meant when its file name matches
        if isinstance(item, ScenarioError) and path.stem == name:
            raise item
    known = ", ".join(sorted(item.name for _, item in found if isinstance(item, Scenario))) or "none"
    raise ScenarioError([f"no scenario named {name!r}; known: {known}"], folder)


# ---- error messages ----------------------------------------------------------------------------

_PLAIN_REASONS = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "path_type": "must be a folder path",
}
_BOUNDS = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "string_too_short": "must not be empty",
}


def _describe(error: ErrorDetails) -> str:
    """One pydantic error as "<field path>: <reason>", with the path as faults[0].when.attempts."""
    loc = list(error["loc"])
    reason = _plain_reason(error)
    if len(loc) >= 2 and loc[-1] == "[key]":  # a bad key of a mapping, such as an env name
        reason = f"the key {loc[-2]!r} {reason}"
        loc = loc[:-2]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    return f"{path}: {reason}" if path else reason


def _plain_reason(error: ErrorDetails) -> str:
    kind, context = error["type"], error.get("ctx", {})
    if kind in _PLAIN_REASONS:
        return _PLAIN_REASONS[kind]
    if kind in _BOUNDS:  # "at least 1", not pydantic's "at least 1.0" for a float field
        return _BOUNDS[kind].format(**{key: f"{value:g}" for key, value in context.items()})
    if kind == "literal_error":
        return f"must be one of {context['expected']}"
    if kind == "too_short":
        return "must not be empty" if context.get("min_length") == 1 else str(error["msg"]).rstrip(".")
    return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ").rstrip(".")
