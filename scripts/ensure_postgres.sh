#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 for the test suite: start the local
# cluster if it is down, or install it from Debian's packages on a machine that has none.
# In CI (CI=true) a PostgreSQL that cannot be had is an error; elsewhere its tests are skipped.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

start_cluster() {
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n1)"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
}

install_postgres() {
  echo "ensure_postgres: installing PostgreSQL from Debian's packages" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

if ! ready; then
  if ! command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    install_postgres
  fi
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    start_cluster
  fi
  for _ in $(seq 1 60); do ready && break; sleep 0.5; done
fi

if ! ready; then
  if [ "${CI:-}" = "true" ]; then
    echo "ensure_postgres: PostgreSQL is not reachable on 127.0.0.1:5432 and CI=true: failing." >&2
    exit 1
  fi
  echo "ensure_postgres: PostgreSQL is not reachable; its tests will be skipped." >&2
  exit 0
fi

# A freshly installed Debian cluster asks for a password over TCP: give the test user one.
if ! psql -h 127.0.0.1 -U postgres -d postgres -w -qAtc "SELECT 1" >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'iris-test'\"" >/dev/null
  echo "export IRIS_TEST_POSTGRES_URL=postgresql+psycopg://postgres:iris-test@127.0.0.1:5432/postgres"
fi
