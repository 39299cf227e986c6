"""Broken target: correct exponential back-off, but 6 attempts where the scenario allows 4."""

# Declared model: max_attempts 4. Only a fault that fails attempts 1-5 (or every attempt) shows
# the bug: IRIS must report "6 attempts, max_attempts is 4" (the 6th attempt gets the 2xx).
# expect:
#   retry:
#     on: [502, 503, 504]
#     max_attempts: 4
#     backoff: {base: 200ms, factor: 2, max: 1s, jitter: none, jitter_max: 0s, first_retry: nominal}
#     honor_retry_after: true
# Measured gaps: 0.2, 0.4, 0.8, 1.0, 1.0 s (capped at max).

from __future__ import annotations

import sys
import time

from _common import RETRY_ON, ok, post_job

BASE_DELAY, FACTOR, MAX_DELAY = 0.2, 2, 1.0
MAX_ATTEMPTS = 6  # bug: the runbook says 4


def main() -> int:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        status, retry_after = post_job(attempt)
        if ok(status):
            return 0
        if status is not None and status not in RETRY_ON:
            return 1
        if attempt < MAX_ATTEMPTS:
            backoff = min(MAX_DELAY, BASE_DELAY * FACTOR ** (attempt - 1))
            time.sleep(retry_after if retry_after is not None else backoff)
    return 1


if __name__ == "__main__":
    sys.exit(main())
