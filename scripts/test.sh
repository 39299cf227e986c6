#!/usr/bin/env bash
# The whole test suite from a fresh checkout: a virtualenv with IRIS and its test tools,
# PostgreSQL started (or installed) for the repository tests, ruff, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

eval "$(bash scripts/ensure_postgres.sh)"

.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
