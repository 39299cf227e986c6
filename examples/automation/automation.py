"""Automation script v1.2: submit the nightly sync job to the jobs API, retrying with exponential back-off."""

# What changed in v1.2 (the change IRIS rehearses):
#   - 502/503/504 and connection errors are retried with exponential back-off: 1 s, 2 s, 4 s ... capped
#     at 30 s, 4 attempts in all; a Retry-After header from the server wins over the back-off.
#   - one Idempotency-Key for all attempts, so a retried POST never creates a second job.
#   - log observability: one JSON object per line on stderr, with a monotonic timestamp (`mono`)
#     to measure gaps and a wall-clock one (`ts`) to find the line in Elastic next to the APM traces.
# Exit codes: 0 the job succeeded, 1 gave up or the job failed, 2 bad arguments.
#
# Usage: API_URL=http://127.0.0.1:8080 python3 automation.py --env qa [--base-delay 0.2]

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

VERSION = "1.2"
RETRY_ON = {502, 503, 504}
FACTOR = 2.0
MAX_DELAY = 30.0
MAX_ATTEMPTS = 4  # first attempt included
REQUEST_TIMEOUT = 10.0
USER_AGENT = f"automation/{VERSION}"


class GiveUp(Exception):
    """The API kept failing (or refused the request) and the script stops."""


class Log:
    """Structured log lines on stderr: one JSON object per event."""

    def __init__(self, env: str) -> None:
        self.fields = {"script": "automation", "version": VERSION, "env": env}
        for name, key in (("REHEARSAL_ID", "rehearsal_id"), ("REHEARSAL_RUN", "rehearsal_run")):
            if os.environ.get(name):
                self.fields[key] = os.environ[name]

    def __call__(self, event: str, level: str = "info", **fields: Any) -> None:
        line = {
            "ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "mono": time.monotonic(),
            "level": level,
            "event": event,
            **self.fields,
            **fields,
        }
        print(json.dumps(line), file=sys.stderr, flush=True)


class JobsApi:
    """The jobs API, every call retried by the v1.2 policy."""

    def __init__(self, base_url: str, base_delay: float, log: Log) -> None:
        self.base_url = base_url.rstrip("/")
        self.base_delay = base_delay
        self.log = log

    def backoff(self, retry: int) -> float:
        """The wait before retry number `retry` (1 = the second attempt)."""
        return min(MAX_DELAY, self.base_delay * FACTOR ** (retry - 1))

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        for attempt in range(1, MAX_ATTEMPTS + 1):
            request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
            started = time.monotonic()
            status, retry_after, payload, error = self._send(request)
            self.log(
                "http_attempt",
                method=method,
                path=path,
                attempt=attempt,
                status=status,
                duration_ms=round((time.monotonic() - started) * 1000, 1),
                error=error,
            )
            if status is not None and 200 <= status < 300:
                return payload
            if status is not None and status not in RETRY_ON:
                raise GiveUp(f"{method} {path} answered {status}, which is not retried")
            if attempt == MAX_ATTEMPTS:
                break
            wait = retry_after if retry_after is not None else self.backoff(attempt)
            self.log(
                "retry_scheduled",
                level="warning",
                method=method,
                path=path,
                attempt=attempt,
                next_attempt=attempt + 1,
                wait_s=round(wait, 3),
                cause=status or error,
                retry_after=retry_after,
            )
            time.sleep(wait)
        raise GiveUp(f"{method} {path} still failing after {MAX_ATTEMPTS} attempts")

    def _send(
        self, request: urllib.request.Request
    ) -> tuple[int | None, float | None, dict[str, Any], str | None]:
        """One exchange: (status, Retry-After seconds, JSON body, error text when there was no response)."""
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                return response.status, None, json.loads(response.read() or b"{}"), None
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, parse_retry_after(exc.headers.get("Retry-After")), {}, None
        except (urllib.error.URLError, OSError) as exc:
            return None, None, {}, str(getattr(exc, "reason", exc))


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", required=True, choices=["qa", "staging", "prod"])
    parser.add_argument(
        "--base-delay",
        type=float,
        default=1.0,
        help="first back-off in seconds (default 1; shrink it for demos)",
    )
    parser.add_argument("--poll-every", type=float, default=1.0, help="seconds between job status checks")
    parser.add_argument(
        "--job-timeout", type=float, default=300.0, help="seconds to wait for the job to finish"
    )
    args = parser.parse_args(argv)

    log = Log(args.env)
    api = JobsApi(os.environ.get("API_URL", "http://127.0.0.1:8080"), args.base_delay, log)
    job = {"task": "nightly-sync", "environment": args.env, "requested_by": USER_AGENT}
    log("start", api_url=api.base_url, base_delay_s=args.base_delay, max_attempts=MAX_ATTEMPTS)
    try:
        created = api.call("POST", "/v1/jobs", job, headers={"Idempotency-Key": str(uuid.uuid4())})
        job_id = created["id"]
        log("job_submitted", job_id=job_id, state=created.get("state"))
        deadline = time.monotonic() + args.job_timeout
        state = created.get("state")
        while state not in ("succeeded", "failed"):
            if time.monotonic() > deadline:
                raise GiveUp(f"job {job_id} still {state} after {args.job_timeout:g} s")
            time.sleep(args.poll_every)
            state = api.call("GET", f"/v1/jobs/{job_id}").get("state")
            log("job_state", job_id=job_id, state=state)
    except (GiveUp, KeyError) as exc:
        log("gave_up", level="error", reason=str(exc))
        return 1
    if state != "succeeded":
        log("job_failed", level="error", job_id=job_id)
        return 1
    log("done", job_id=job_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
