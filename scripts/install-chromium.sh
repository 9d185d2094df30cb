#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (/usr/bin/chromium) with Playwright for Python.
# Playwright's own browser download is never used; this installs the system package if
# it is missing. Run by `make test` (and so by .ci/run).
set -euo pipefail

CHROMIUM="${CANVASFILL_TEST_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: $CHROMIUM is missing and there is no apt-get here;" \
        "install Chromium yourself (the browser tests are skipped without it)" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-chromium: not root and no sudo: run 'apt-get install -y chromium' as root" >&2
        exit 0
    fi
fi
echo "install-chromium: installing Debian's chromium for the browser tests"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
