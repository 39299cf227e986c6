"""Target: submits the job with httpx, retried by tenacity's wait_exponential and stop_after_attempt(4)."""

# Scenario model (tenacity wait.py wait_exponential): the wait after attempt n is
#   max(min, min(max, multiplier * exp_base ** (n - 1)));
#   with multiplier 0.2, exp_base 2, min 0.2 (no effect while min <= multiplier), max 1 the gaps are
#   0.2, 0.4, 0.8 s. No jitter. tenacity does not look at Retry-After.
# expect:
#   retry:
#     on: [502, 503, 504]
#     max_attempts: 4
#     backoff: {base: 200ms, factor: 2, max: 1s, jitter: none, jitter_max: 0s, first_retry: nominal}
#     honor_retry_after: false

from __future__ import annotations

import itertools
import sys
import time

import httpx
import tenacity
from _common import JOB, RETRY_ON, jobs_url, log_attempt


class RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code} from {response.request.url}")
        self.response = response


attempt_numbers = itertools.count(1)


def on_request(request: httpx.Request) -> None:
    request.extensions["sent_at"] = time.monotonic()


def on_response(response: httpx.Response) -> None:
    sent_at = response.request.extensions["sent_at"]
    log_attempt(next(attempt_numbers), sent_at, response.status_code, time.monotonic())


client = httpx.Client(timeout=10.0, event_hooks={"request": [on_request], "response": [on_response]})


@tenacity.retry(
    retry=tenacity.retry_if_exception_type((RetryableStatus, httpx.TransportError)),
    wait=tenacity.wait_exponential(multiplier=0.2, min=0.2, max=1.0),
    stop=tenacity.stop_after_attempt(4),
    reraise=True,
)
def submit_job() -> httpx.Response:
    response = client.post(jobs_url(), json=JOB)
    if response.status_code in RETRY_ON:
        raise RetryableStatus(response)
    return response


def main() -> int:
    try:
        response = submit_job()
    except (RetryableStatus, httpx.TransportError) as error:
        print(f"job not submitted: {error}", file=sys.stderr)
        return 1
    print(f"POST /v1/jobs -> {response.status_code} {response.text}", file=sys.stderr)
    return 0 if response.is_success else 1


if __name__ == "__main__":
    sys.exit(main())
