"""Broken target: retries 502/503/504 up to 4 attempts, always waiting the base delay (linear back-off)."""

# Declared model (what the script should do); IRIS must fail the gap before attempt 3
# (0.2 s where 0.4 s is expected) given a tolerance tighter than 0.2 s.
# expect:
#   retry:
#     on: [502, 503, 504]
#     max_attempts: 4
#     backoff: {base: 200ms, factor: 2, max: 1s, jitter: none, jitter_max: 0s, first_retry: nominal}
#     honor_retry_after: true
# Measured gaps: 0.2, 0.2, 0.2 s.

from __future__ import annotations

import sys
import time

from _common import RETRY_ON, ok, post_job

BASE_DELAY = 0.2
MAX_ATTEMPTS = 4


def main() -> int:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        status, retry_after = post_job(attempt)
        if ok(status):
            return 0
        if status is not None and status not in RETRY_ON:
            return 1
        if attempt < MAX_ATTEMPTS:
            time.sleep(retry_after if retry_after is not None else BASE_DELAY)  # bug: never grows
    return 1


if __name__ == "__main__":
    sys.exit(main())
