#!/usr/bin/env bash
# Make sure Debian's Chromium is on this machine for the playground's browser tests: install the
# distribution's `chromium` package when it is missing (browser downloads from elsewhere are not
# possible here), with its colour emoji font so screenshots show IRIS's ✅ and 🔴.
# Prints `export IRIS_TEST_CHROMIUM=…` for Playwright's executable_path.
# In CI (CI=true) a browser that cannot be had is an error; elsewhere the browser tests are skipped.
set -euo pipefail

find_binary() { command -v chromium || command -v chromium-browser || true; }

missing() { for package in chromium fonts-noto-color-emoji; do dpkg -s "$package" >/dev/null 2>&1 || echo "$package"; done; }

packages="$(missing 2>/dev/null || true)"
if [ -n "$packages" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure_chromium: installing $(echo $packages) from Debian's packages" >&2
  # shellcheck disable=SC2086  (one word per package)
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null; } \
    || echo "ensure_chromium: apt-get could not install $(echo $packages)" >&2
fi
binary="$(find_binary)"

if [ -z "$binary" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "ensure_chromium: no Chromium and CI=true: failing." >&2
    exit 1
  fi
  echo "ensure_chromium: no Chromium; the browser tests will be skipped." >&2
  exit 0
fi
echo "export IRIS_TEST_CHROMIUM=$binary"
