"""Broken target: correct exponential back-off, but it never reads the Retry-After header."""

# Declared model: honor_retry_after true. With a fault that answers `Retry-After: 1`, IRIS must
# report the gap as 0.2 s (then 0.4 s) where 1 s was announced. Without Retry-After it passes.
# expect:
#   retry:
#     on: [502, 503, 504]
#     max_attempts: 4
#     backoff: {base: 200ms, factor: 2, max: 1s, jitter: none, jitter_max: 0s, first_retry: nominal}
#     honor_retry_after: true
# Measured gaps: 0.2, 0.4 s whatever Retry-After says.

from __future__ import annotations

import sys
import time

from _common import RETRY_ON, ok, post_job

BASE_DELAY, FACTOR, MAX_DELAY = 0.2, 2, 1.0
MAX_ATTEMPTS = 4


def main() -> int:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        status, _retry_after = post_job(attempt)  # bug: the server's Retry-After is dropped
        if ok(status):
            return 0
        if status is not None and status not in RETRY_ON:
            return 1
        if attempt < MAX_ATTEMPTS:
            time.sleep(min(MAX_DELAY, BASE_DELAY * FACTOR ** (attempt - 1)))
    return 1


if __name__ == "__main__":
    sys.exit(main())
