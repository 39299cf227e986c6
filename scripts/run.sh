#!/usr/bin/env bash
# Install IRIS into a virtualenv and run it: `iris serve` with Slack credentials in the
# environment; without them it says which are missing and how to get them.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/iris serve "$@"
