"""Broken target: retries once after the right wait, then gives up and exits 1 (4 attempts were allowed)."""

# Declared model: max_attempts 4. With 504 on attempts 1 and 2, IRIS must report
# "gave up after 2 attempts while 4 were allowed" and "exit code 1, expected 0".
# expect:
#   retry:
#     on: [502, 503, 504]
#     max_attempts: 4
#     backoff: {base: 200ms, factor: 2, max: 1s, jitter: none, jitter_max: 0s, first_retry: nominal}
#     honor_retry_after: true
# Measured gaps: 0.2 s, then no further attempt.

from __future__ import annotations

import sys
import time

from _common import RETRY_ON, ok, post_job

BASE_DELAY = 0.2
MAX_ATTEMPTS = 2  # bug: "one retry is enough"


def main() -> int:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        status, retry_after = post_job(attempt)
        if ok(status):
            return 0
        if status is not None and status not in RETRY_ON:
            return 1
        if attempt < MAX_ATTEMPTS:
            time.sleep(retry_after if retry_after is not None else BASE_DELAY)
    print("giving up: the API keeps failing", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
