"""What every target shares: the job it submits, where it sends it, and the TARGET_LOG attempt log."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from email.message import Message

JOB = {"name": "nightly-sync", "environment": "qa", "items": 3}
RETRY_ON = (502, 503, 504)


def jobs_url() -> str:
    return os.environ["API_URL"].rstrip("/") + "/v1/jobs"


def log_attempt(attempt: int, sent_at: float, status: int | None, received_at: float) -> None:
    """Append one attempt to TARGET_LOG as a JSON line (time.monotonic() seconds), if it is set."""
    path = os.environ.get("TARGET_LOG")
    if path:
        record = {"attempt": attempt, "sent_at": sent_at, "status": status, "received_at": received_at}
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")


def post_job(attempt: int) -> tuple[int | None, float | None]:
    """POST the job once with urllib.request: (status or None without a response, Retry-After seconds)."""
    request = urllib.request.Request(
        jobs_url(), data=json.dumps(JOB).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    headers: Message | dict[str, str] = {}
    sent_at = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        status, headers = error.code, error.headers
        error.close()
    except OSError:  # refused, reset, timed out
        status = None
    log_attempt(attempt, sent_at, status, time.monotonic())
    return status, retry_after_seconds(headers.get("Retry-After"))


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After given in seconds; HTTP dates are not used by these targets."""
    return float(value) if value and value.strip().isdigit() else None


def ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 300
