#!/usr/bin/env bash
# Regenerate the playground screenshots in docs/screenshots/ (shown in the README and docs/demo.md):
# the browser tests take them while they drive `iris demo` in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
IRIS_SCREENSHOTS="$PWD/docs/screenshots" exec bash scripts/test.sh tests/demo/test_playground_browser.py
