"""Copies the front-end assets installed by npm into webui/static/vendor, where the app serves them itself."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"

COPIES = [
    ("node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css", "govuk/govuk-frontend.min.css"),
    ("node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js", "govuk/govuk-frontend.min.js"),
    ("node_modules/govuk-frontend/dist/govuk/assets", "govuk/assets"),
    ("node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js", "bpmn-js/bpmn-navigated-viewer.min.js"),
    ("node_modules/bpmn-js/dist/assets", "bpmn-js/assets"),
]


def copy_assets() -> None:
    missing = [src for src, _ in COPIES if not (ROOT / src).exists()]
    if missing:
        sys.exit("Front-end assets are missing (" + ", ".join(missing) + "). Run scripts/bootstrap.sh (it runs npm ci).")
    for src, dest in COPIES:
        target = VENDOR / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / src).is_dir():
            shutil.copytree(ROOT / src, target, dirs_exist_ok=True)
        else:
            shutil.copy2(ROOT / src, target)


if __name__ == "__main__":
    copy_assets()
