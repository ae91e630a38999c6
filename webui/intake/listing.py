"""The caseworkers' list of new requests, oldest first, and the requests registered or closed most recently."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from engine.intake.questions import CHANNELS, REQUESTER_TYPES
from engine.intake.requests import decide_by, open_requests, recent_requests
from webui.access import staff
from webui.context import db
from webui.intake.blueprint import bp, require_intake


@bp.get("/")
@staff
def index() -> ResponseReturnValue:
    """New requests waiting to be registered."""
    la_ids = require_intake()
    waiting = [(row, decide_by(row.received_at) if row.received_at else None) for row in open_requests(db(), la_ids)]
    return render_template("intake/index.html", waiting=waiting, recent=recent_requests(db(), la_ids, limit=20),
                           requester_types=REQUESTER_TYPES, channels=CHANNELS, several=len(la_ids) > 1)
