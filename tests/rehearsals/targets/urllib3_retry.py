"""Target: submits the job through urllib3's own Retry (total=3, backoff_factor=0.2), no retry code here."""

# Scenario model (urllib3 2.x, util/retry.py get_backoff_time):
#   the sleep after the n-th consecutive failure is 0 for n = 1, else
#   min(backoff_max, backoff_factor * 2 ** (n - 1) + uniform(0, backoff_jitter));
#   with backoff_factor 0.2, backoff_max 1, backoff_jitter 0 the gaps are 0, 0.4, 0.8 s.
#   A Retry-After header (seconds or HTTP date, any status) replaces the back-off for that gap.
# expect:
#   retry:
#     on: [502, 503, 504]
#     max_attempts: 4
#     backoff: {base: 200ms, factor: 2, max: 1s, jitter: none, jitter_max: 0s, first_retry: zero}
#     honor_retry_after: true
# Caveat: urllib3 treats "Retry-After: 0" as absent and sleeps the back-off instead.

from __future__ import annotations

import sys
import time
from typing import Any

import urllib3
from _common import JOB, jobs_url, log_attempt
from urllib3.connection import HTTPConnection


class AttemptLoggingConnection(HTTPConnection):
    """Times every request urllib3 sends (urllib3 has no per-attempt hook, so the connection class)."""

    attempts = 0
    sent_at = 0.0

    def request(self, *args: Any, **kwargs: Any) -> None:
        self.sent_at = time.monotonic()
        super().request(*args, **kwargs)

    def getresponse(self) -> Any:
        response = super().getresponse()
        AttemptLoggingConnection.attempts += 1
        log_attempt(AttemptLoggingConnection.attempts, self.sent_at, response.status, time.monotonic())
        return response


class AttemptLoggingPool(urllib3.HTTPConnectionPool):
    ConnectionCls = AttemptLoggingConnection


def main() -> int:
    retry = urllib3.util.Retry(
        total=3,  # 4 attempts in all
        backoff_factor=0.2,
        backoff_max=1.0,
        status_forcelist=[502, 503, 504],
        allowed_methods=None,  # POST is not retried by default: this job submission is idempotent
        respect_retry_after_header=True,
        raise_on_status=False,  # hand back the last response instead of raising MaxRetryError
    )
    http = urllib3.PoolManager(retries=retry, timeout=10.0)
    http.pool_classes_by_scheme = {**http.pool_classes_by_scheme, "http": AttemptLoggingPool}
    try:
        response = http.request("POST", jobs_url(), json=JOB)
    except urllib3.exceptions.HTTPError as error:
        print(f"job not submitted: {error}", file=sys.stderr)
        return 1
    print(f"POST /v1/jobs -> {response.status} {response.data.decode(errors='replace')}", file=sys.stderr)
    return 0 if 200 <= response.status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
