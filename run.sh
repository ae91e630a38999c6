#!/usr/bin/env bash
# One command: set everything up (virtual environment, dependencies, assets, database, workflows, demo data) and
# start EHC Flow on SQLite at http://127.0.0.1:5000/. Extra arguments go to `ehcflow run` (e.g. --port 8000).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh
.venv/bin/ehcflow setup
exec .venv/bin/ehcflow run "$@"
