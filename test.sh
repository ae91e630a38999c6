#!/usr/bin/env bash
# One command: set everything up and run the whole test suite (unit, workflow, web, browser, PostgreSQL).
# PostgreSQL tests use TEST_DATABASE_URL when it is reachable and are skipped, with the reason printed, otherwise.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh
scripts/install-browser.sh
.venv/bin/lint-imports --no-cache  # the layers in setup.cfg [importlinter]; see docs/architecture.md
exec .venv/bin/python -m pytest "$@"
