"""The Flask app factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, render_template_string
from sqlalchemy import func, select

from engine.models import HumanTask, ProcessVersion
from engine.services import Services, build


def create_app(config: dict[str, Any] | None = None, services: Services | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("EHCFLOW_INSTANCE_DIR") or None)
    app.config.from_mapping(SECRET_KEY=os.environ.get("EHCFLOW_SECRET_KEY", "dev-only-not-secret"))
    app.config.update(config or {})
    services = services or build(app.config.get("DATABASE_URL"))
    app.extensions["ehcflow"] = services

    @app.get("/")
    def home() -> str:
        with services.session_factory() as session:
            versions = session.scalars(select(ProcessVersion).where(ProcessVersion.is_current.is_(True))
                                       .order_by(ProcessVersion.process_id)).all()
            open_tasks = session.scalar(select(func.count(HumanTask.id)).where(HumanTask.status == "open"))
        return render_template_string(
            "<h1>EHC Flow</h1><ul>{% for v in versions %}<li>{{ v.process_id }} {{ v.short_hash }}</li>{% endfor %}"
            "</ul><p>{{ open_tasks }} open tasks</p>", versions=versions, open_tasks=open_tasks)

    return app
