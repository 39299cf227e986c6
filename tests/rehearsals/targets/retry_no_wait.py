"""Broken target: retries 502/503/504 up to 4 attempts but never waits between them."""

# Declare the model the script claims to follow; IRIS must fail it on every gap
# ("gap before attempt 2 was 0.00 s, expected 0.20-0.20 s ...") given a tight tolerance.
# expect:
#   retry:
#     on: [502, 503, 504]
#     max_attempts: 4
#     backoff: {base: 200ms, factor: 2, max: 1s, jitter: none, jitter_max: 0s, first_retry: nominal}
#     honor_retry_after: true
# Measured gaps: about 0 s each.

from __future__ import annotations

import sys

from _common import RETRY_ON, ok, post_job

MAX_ATTEMPTS = 4


def main() -> int:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        status, _retry_after = post_job(attempt)
        if ok(status):
            return 0
        if status is not None and status not in RETRY_ON:
            return 1
        # bug: straight back to the API, no back-off at all
    return 1


if __name__ == "__main__":
    sys.exit(main())
