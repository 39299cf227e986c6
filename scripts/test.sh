#!/usr/bin/env bash
# The whole test suite from a fresh checkout: a virtualenv with IRIS and its test tools,
# PostgreSQL started (or installed) for the repository tests, a real Alertmanager, Debian's Chromium
# for the playground's browser tests, ruff (format and lint), mypy, the import contracts
# (pyproject.toml), then pytest on both CPUs (pytest-xdist).
#
#   bash scripts/test.sh               everything, as CI runs it (.ci/run)
#   bash scripts/test.sh --fast        the loop between commits: no `e2e` or `slow` tests
#   bash scripts/test.sh -k outbox     further arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

selection=()
if [ "${1:-}" = "--fast" ]; then
    shift
    selection=(-m "not e2e and not slow")
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

# Not `eval "$(...)"`: the exit status of a command substitution inside eval's argument is lost,
# so set -e would carry on after ensure_postgres failed. An assignment keeps it.
postgres_env="$(bash scripts/ensure_postgres.sh)"
eval "$postgres_env"
alertmanager_env="$(bash scripts/ensure_alertmanager.sh)"
eval "$alertmanager_env"
chromium_env="$(bash scripts/ensure_chromium.sh)"
eval "$chromium_env"

.venv/bin/ruff format --check .
.venv/bin/ruff check .
.venv/bin/mypy bot commands storage
.venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest -n 2 --dist loadgroup "${selection[@]}" "$@"
