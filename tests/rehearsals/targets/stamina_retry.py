"""Target: submits the job with httpx, retried by stamina (4 attempts, exponential back-off plus jitter)."""

# Scenario model (stamina _core.py _compute_backoff): the wait after attempt n is
#   min(wait_max, wait_initial * wait_exp_base ** (n - 1) + uniform(0, wait_jitter));
#   with wait_initial 0.2, wait_exp_base 2, wait_jitter 0.1, wait_max 1 the gaps fall in
#   [0.2, 0.3], [0.4, 0.5], [0.8, 0.9] s: additive jitter. stamina ignores Retry-After unless an
#   `on=` hook returns a back-off (stamina >= 25.2); this target does not.
#   stamina.set_testing(True) would make every wait 0; nothing here calls it.
# expect:
#   retry:
#     on: [502, 503, 504]
#     max_attempts: 4
#     backoff: {base: 200ms, factor: 2, max: 1s, jitter: additive, jitter_max: 100ms, first_retry: nominal}
#     honor_retry_after: false

from __future__ import annotations

import itertools
import sys
import time

import httpx
import stamina
import stamina.instrumentation
from _common import JOB, RETRY_ON, jobs_url, log_attempt

# stamina would set up its logging/Prometheus hooks on the first retry, inside the first back-off
# gap (tens of milliseconds of imports the model does not expect): set none, up front.
stamina.instrumentation.set_on_retry_hooks([])


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


@stamina.retry(
    on=(RetryableStatus, httpx.TransportError),
    attempts=4,
    timeout=None,
    wait_initial=0.2,
    wait_exp_base=2,
    wait_jitter=0.1,
    wait_max=1.0,
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
