#!/usr/bin/env bash
# Make sure a real Alertmanager binary is on this machine for the alert integration tests:
# install Debian's prometheus-alertmanager package when it is missing (its service is not started;
# the tests run their own Alertmanager on a free port). Prints `export IRIS_TEST_ALERTMANAGER=…`.
# In CI (CI=true) an Alertmanager that cannot be had is an error; elsewhere its tests are skipped.
set -euo pipefail

find_binary() { command -v prometheus-alertmanager || command -v alertmanager || true; }

install_alertmanager() {
  echo "ensure_alertmanager: installing prometheus-alertmanager from Debian's packages" >&2
  local policy=/usr/sbin/policy-rc.d created=""
  # Debian starts a package's service on install; the tests want no daemon on port 9093.
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager >/dev/null \
    || echo "ensure_alertmanager: apt-get could not install prometheus-alertmanager" >&2
  if [ -n "$created" ]; then rm -f "$policy"; fi
}

binary="$(find_binary)"
if [ -z "$binary" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  install_alertmanager
  binary="$(find_binary)"
fi

if [ -z "$binary" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "ensure_alertmanager: no Alertmanager binary and CI=true: failing." >&2
    exit 1
  fi
  echo "ensure_alertmanager: no Alertmanager binary; its tests will be skipped." >&2
  exit 0
fi
echo "export IRIS_TEST_ALERTMANAGER=$binary"
