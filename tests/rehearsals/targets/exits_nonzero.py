"""Broken target: retries correctly and its job is accepted, then it exits 3 (a failing report step)."""

# Declared model: the retries pass every back-off check; IRIS must fail the run on
# "exit code 3, expected 0".
# expect:
#   exit_code: 0
#   retry:
#     on: [502, 503, 504]
#     max_attempts: 4
#     backoff: {base: 200ms, factor: 2, max: 1s, jitter: none, jitter_max: 0s, first_retry: nominal}
#     honor_retry_after: true
# Measured gaps: 0.2, 0.4 s (504 on attempts 1 and 2), then a 201 and exit code 3.

from __future__ import annotations

import sys
import time

from _common import RETRY_ON, ok, post_job

BASE_DELAY, FACTOR, MAX_DELAY = 0.2, 2, 1.0
MAX_ATTEMPTS = 4


def write_report() -> int:
    print("report: cannot write /var/reports/nightly-sync.json", file=sys.stderr)
    return 3  # bug: the job went through, but the script still reports failure


def main() -> int:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        status, retry_after = post_job(attempt)
        if ok(status):
            return write_report()
        if status is not None and status not in RETRY_ON:
            return 1
        if attempt < MAX_ATTEMPTS:
            backoff = min(MAX_DELAY, BASE_DELAY * FACTOR ** (attempt - 1))
            time.sleep(retry_after if retry_after is not None else backoff)
    return 1


if __name__ == "__main__":
    sys.exit(main())
