#!/usr/bin/env bash
# Browser tests drive Debian's chromium through Playwright (Playwright's own browser download is not used).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
else
  echo "Browser tests need Debian's chromium at /usr/bin/chromium: sudo apt-get install chromium fonts-noto-cjk" >&2
  exit 1
fi
