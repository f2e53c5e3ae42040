#!/usr/bin/env bash
# The integration guide's Node.js webhook verifier (renocrm/api/guide/verify_signature.js) is run by the tests
# against real signatures: Debian's nodejs.
set -euo pipefail
if command -v node >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's nodejs for the guide's Node.js example…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs >/dev/null
else
  echo "The tests run the guide's Node.js example: sudo apt-get install nodejs" >&2
  exit 1
fi
