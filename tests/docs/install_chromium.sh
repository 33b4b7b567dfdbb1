#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing.
# Idempotent: exits at once when /usr/bin/chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_chromium.sh: /usr/bin/chromium is missing and installing it needs root;" \
         "run: sudo apt-get update && sudo apt-get install -y chromium" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium
echo "install_chromium.sh: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
