"""Rows of the authorization matrix (tests/web/test_authorization.py) for the owner area, and the objects its URLs name.

Routes are shared by every organisation, so who may use these pages depends on the role, not on the case: process
owners change routes; administrators (of any organisation) look at them read-only.
"""

from __future__ import annotations

from typing import Any

from engine.authoring import route_uploads
from engine.library.registry import ProcessRegistry
from tests.web.conftest import DATA

OWNERS = {"processowner"}
VIEWERS = {"processowner", "admin", "other_admin"}

# (endpoint, method, variant) -> who may use it on the first case's organisation's objects.
EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("owner.home", "GET", ""): VIEWERS,
    ("owner.version", "GET", ""): VIEWERS,
    ("owner.version_diagram", "GET", ""): VIEWERS,
    ("owner.version_file", "GET", ""): VIEWERS,
    ("owner.version_zip", "GET", ""): VIEWERS,
    ("owner.compare", "GET", ""): VIEWERS,
    ("owner.compare_diagram", "GET", ""): VIEWERS,
    ("owner.migrate", "POST", ""): OWNERS,
    ("owner.upload", "GET", ""): OWNERS,
    ("owner.upload", "POST", ""): OWNERS,
    ("owner.upload_review", "GET", ""): OWNERS,
    ("owner.deploy_upload", "POST", ""): OWNERS,
    ("owner.discard_upload", "POST", ""): OWNERS,
    ("owner.version_scenario", "GET", ""): OWNERS,
    ("owner.version_scenario", "POST", ""): OWNERS,
    ("owner.upload_scenario", "GET", ""): OWNERS,
    ("owner.upload_scenario", "POST", ""): OWNERS,
}

# What is posted: enough to reach the authorization checks, never enough to change anything (no files, no instance,
# no confirmation, no scenario: each gets its error message).
EXTRA_POST_DATA: dict[str, dict[str, str]] = {
    "owner.migrate": {},
    "owner.upload": {},
    "owner.deploy_upload": {},
    "owner.discard_upload": {},
    "owner.version_scenario": {},
    "owner.upload_scenario": {},
}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    """URL values (by URL variable name) for this area's endpoints, made for the case's organisation."""
    from sqlalchemy import select

    from engine.store.models import ProcessVersion

    text = (DATA / "web_route.bpmn").read_text()
    # A second version of the test route, so that two versions can be compared.
    engine.deploy(ProcessRegistry.from_texts({"workflows/web_route.bpmn": text.replace('name="Decide"',
                                                                                         'name="Decide now"')},
                                             DATA / "forms"))
    with services.session_factory() as s:
        first, second = s.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == "web_route")
                                  .order_by(ProcessVersion.id)).all()[:2]
    upload = route_uploads.stage(app.instance_path, [("web_route.bpmn", text.encode())], world.users["processowner"],
                                 clock.now())
    return {"route_version_id": first, "other_route_version_id": second, "route_file_kind": "workflows",
            "route_file_name": "web_route.bpmn", "upload_token": upload.token}
