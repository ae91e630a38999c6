#!/usr/bin/env bash
# The system packages the tests drive: Debian's Chromium, through Playwright (browser downloads are not possible
# here), and nginx, whose `nginx -t` checks the example proxy configuration (scripts/nginx/ehcflow.conf).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "${missing[*]} not installed and apt-get is not available: the tests that need them will be skipped." >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing ${missing[*]} for the tests"
$SUDO apt-get update -qq
# RUNLEVEL=1: the package's own service is not started (the tests only run `nginx -t`).
$SUDO env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq "${missing[@]}" >/dev/null
