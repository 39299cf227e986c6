#!/usr/bin/env bash
# Install IRIS into a virtualenv and run it. With Slack credentials in the environment (SLACK_BOT_TOKEN
# and SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN for Socket Mode) it runs `iris serve`; with none at
# all it runs `iris demo`: IRIS, a local Slack stand-in and a Slack-like page on http://127.0.0.1:8000.
# Arguments go to the command it runs (e.g. `--port 8080`, or `--tour` for the demo).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
if [ -z "${SLACK_BOT_TOKEN:-}${SLACK_SIGNING_SECRET:-}${SLACK_APP_TOKEN:-}" ]; then
    echo "run.sh: no Slack credentials are set, so this is the demo; see docs/setup.md to connect a workspace." >&2
    exec .venv/bin/iris demo "$@"
fi
exec .venv/bin/iris serve "$@"
