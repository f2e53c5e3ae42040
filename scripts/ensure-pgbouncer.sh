#!/usr/bin/env bash
# The fault drills serve the app through a private PgBouncer in transaction mode (Debian's package; only its
# binary is used, the packaged service is left stopped).
set -euo pipefail
if [ -x /usr/sbin/pgbouncer ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's pgbouncer for the fault drills…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
  # The drills start their own pgbouncer; the packaged service would only hold port 6432.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now pgbouncer >/dev/null 2>&1 || true
  else
    service pgbouncer stop >/dev/null 2>&1 || true
  fi
else
  echo "The fault drills need Debian's pgbouncer at /usr/sbin/pgbouncer: sudo apt-get install pgbouncer" >&2
  exit 1
fi
