#!/usr/bin/env bash
# Makes headless Chromium and its WebDriver available for the dashboard's browser test:
# installs Debian's `chromium` and `chromium-driver` when missing and running as root.
# Prints the two paths (browser, driver) on stdout; exits 1 when they cannot be had.
set -euo pipefail
find_bin() { for name in "$@"; do command -v "$name" 2>/dev/null && return 0; done; return 1; }
BROWSER="$(find_bin chromium chromium-browser || true)"
DRIVER="$(find_bin chromedriver || true)"
if { [ -z "$BROWSER" ] || [ -z "$DRIVER" ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: installing chromium and chromium-driver from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >&2
    BROWSER="$(find_bin chromium chromium-browser || true)"
    DRIVER="$(find_bin chromedriver || true)"
fi
if [ -z "$BROWSER" ] || [ -z "$DRIVER" ]; then
    echo "ensure_chromium: chromium/chromedriver missing (Debian/Ubuntu: apt-get install chromium chromium-driver)" >&2
    exit 1
fi
echo "$BROWSER"
echo "$DRIVER"
