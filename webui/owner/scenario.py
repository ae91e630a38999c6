"""Running a scenario (typed or uploaded) against a deployed version or against uploaded files not yet deployed.

The run happens on a throw-away database, in a process of its own with a time and a memory limit (see
engine/authoring/route_scenarios.py); nothing it does reaches the real one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from engine.authoring import route_scenarios, route_uploads
from engine.authoring.route_scenarios import MAX_SCENARIO_BYTES, files_of_version, parse_scenario, run_against
from engine.authoring.scenarios import ScenarioError
from webui.access import staff
from webui.context import db
from webui.owner.blueprint import bp
from webui.owner.guard import process_owner
from webui.owner.routes import version_or_404
from webui.owner.upload import upload_or_404

SCENARIO_EXTENSIONS = (".yaml", ".yml")


def _scenario_text() -> tuple[str, str, list[dict[str, str]]]:
    """The posted scenario (the file wins over the text box), its name, and what is wrong with the input."""
    text = request.form.get("scenario", "")
    name = "the scenario"
    sent = request.files.get("scenario_file")
    if sent is not None and sent.filename:
        name = sent.filename.replace("\\", "/").rsplit("/", 1)[-1][:100]
        if not name.lower().endswith(SCENARIO_EXTENSIONS):
            return text, name, [{"text": f"{name}: a scenario file must be a .yaml or .yml file",
                                 "href": "#scenario_file"}]
        data = sent.read(MAX_SCENARIO_BYTES + 1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return "", name, [{"text": f"{name}: the file is not UTF-8 text", "href": "#scenario_file"}]
    return text, name, []


def _run(template_args: dict[str, Any], files: Callable[[], dict[str, str]]) -> ResponseReturnValue:
    template_args["limits"] = {"steps": route_scenarios.MAX_STEPS, "seconds": route_scenarios.MAX_SECONDS}
    if request.method == "GET":
        return render_template("owner/scenario.html", errors=[], result=None, scenario="", **template_args)
    text, name, errors = _scenario_text()
    result = None
    if not errors:
        try:
            scenario = parse_scenario(text, name)
            result = run_against(scenario, files(), name)
        except ScenarioError as exc:
            errors = [{"text": str(exc), "href": "#scenario"}]
    return render_template("owner/scenario.html", errors=errors, result=result, scenario=text, **template_args)


@bp.route("/versions/<int:route_version_id>/scenario", methods=["GET", "POST"])
@staff
@process_owner
def version_scenario(route_version_id: int) -> ResponseReturnValue:
    """Runs a scenario against a deployed version."""
    version = version_or_404(route_version_id)
    return _run({"version": version, "upload": None}, lambda: files_of_version(version))


@bp.route("/uploads/<string:upload_token>/scenario", methods=["GET", "POST"])
@staff
@process_owner
def upload_scenario(upload_token: str) -> ResponseReturnValue:
    """Runs a scenario against uploaded files that are not deployed yet (with the deployed ones they call)."""
    upload = upload_or_404(upload_token)

    def files() -> dict[str, str]:
        result = route_uploads.check(db(), upload)
        if not result.passed:
            raise ScenarioError("The uploaded files have problems: see the check")
        return result.files

    return _run({"version": None, "upload": upload}, files)
