#!/usr/bin/env bash
# Installs everything EHC Flow needs into this folder: a Python virtual environment with the project and its
# dependencies, and the front-end assets from npm. Safe to run again: it only redoes what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "EHC Flow needs '$1' ($2). Install it and run this again." >&2; exit 1; }; }
need python3 "Python 3.11 or newer"
need npm "Node.js 18 or newer, for the GOV.UK Frontend and bpmn-js assets"
python3 - <<'PY' || { echo "EHC Flow needs Python 3.11 or newer (found $(python3 --version))." >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

stamp_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

if [ ! -x .venv/bin/python ]; then
  echo "Creating the Python virtual environment in .venv"
  python3 -m venv .venv
fi
py_stamp=$(stamp_of setup.cfg pyproject.toml)
if [ "$(cat .venv/.ehcflow-stamp 2>/dev/null)" != "$py_stamp" ]; then
  echo "Installing Python dependencies"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  echo "$py_stamp" > .venv/.ehcflow-stamp
fi

js_stamp=$(stamp_of package.json package-lock.json)
if [ "$(cat node_modules/.ehcflow-stamp 2>/dev/null)" != "$js_stamp" ]; then
  echo "Installing front-end assets from npm"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$js_stamp" > node_modules/.ehcflow-stamp
fi
.venv/bin/python -m webui.assets
