"""The API's OpenAPI 3 description, built from the app's own routes: every ``/api/v1`` rule of the URL map becomes an
operation, described by its view's ``operation`` declaration (webui/api/auth.py) and its marshmallow schemas
(webui/api/schemas.py) through apispec. Served as JSON at ``/api/v1/openapi.json`` and drawn as a page at
``/api/v1/docs`` from the same dictionary, so the page, the file and the routes cannot disagree."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app, render_template
from flask.typing import ResponseReturnValue
from werkzeug.routing import IntegerConverter, Rule

import webui.api.schemas as schemas
from webui.api.auth import Operation, operation
from webui.api.blueprint import bp
from webui.api.common import json_response
from webui.api.problems import MEDIA_TYPE, TITLES

VERSION = "1.0.0"
DESCRIPTION = (
    "The cases, tasks, routes, messages, documents, deadlines and reports of EHC Flow, for another system acting for "
    "an organisation. Authenticate with an API token that an administrator of the organisation issued "
    "(`Authorization: Bearer <token>`). A token acts with one role of its organisation and may see and do exactly what "
    "a person with that role may on the web pages. Lists come in pages (`page`, `limit`; the `next` link gives the next "
    "page). Errors are `application/problem+json` (RFC 9457).")
METHODS = ("get", "post", "put", "patch", "delete")


def api_rules(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint.startswith(f"{bp.name}.")),
                  key=lambda r: (r.rule, r.endpoint))


def openapi_path(rule: Rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def build_spec(app: Flask) -> dict[str, Any]:
    spec = APISpec(title="EHC Flow API", version=VERSION, openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()], info={"description": DESCRIPTION})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "description": "An API token issued on the admin pages"})
    spec.components.schema("Problem", schema=schemas.Problem)
    for status, title in sorted(TITLES.items()):
        spec.components.response(f"Problem{status}", {
            "description": title, "content": {MEDIA_TYPE: {"schema": "Problem"}}})
    paths: dict[str, dict[str, Any]] = {}
    for rule in api_rules(app):
        op: Operation = app.view_functions[rule.endpoint].api_operation
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule), {})[method.lower()] = _operation(rule, op)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(rule: Rule, op: Operation) -> dict[str, Any]:
    parameters: list[Any] = []
    for name in sorted(rule.arguments):
        converter = rule._converters.get(name)  # noqa: SLF001 - Werkzeug keeps each variable's converter only here
        kind = {"type": "integer"} if isinstance(converter, IntegerConverter) else {"type": "string"}
        parameters.append({"in": "path", "name": name, "required": True, "schema": kind})
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    described: dict[str, Any] = {"operationId": rule.endpoint.split(".", 1)[1], "summary": op.summary,
                                 "tags": [op.tag], "parameters": parameters, "responses": _responses(op)}
    if op.description:
        described["description"] = op.description
    if op.scope is None:
        described["security"] = []
    else:
        described["security"] = [{"bearer": []}]
        described["x-scope"] = op.scope
    if op.body is not None:
        described["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
    return described


def _responses(op: Operation) -> dict[str, Any]:
    if op.response is None:
        content: dict[str, Any] = {op.produces: {"schema": {"type": "string"}}}
    elif op.paged:
        content = {op.produces: {"schema": {"type": "object", "properties": {
            "items": {"type": "array", "items": op.response}, "page": {"type": "integer"},
            "limit": {"type": "integer"}, "total": {"type": "integer"},
            "total_is_at_least": {"type": "boolean", "description": "The list stopped counting: there are more than "
                                                                  "`total`, and the pages stop there (search to "
                                                                  "find the rest)"},
            "next": {"type": "string", "nullable": True, "description": "The next page, or null on the last"}}}}}
    elif op.extra.get("list"):
        content = {op.produces: {"schema": {"type": "object", "properties": {
            "items": {"type": "array", "items": op.response}}}}}
    else:
        content = {op.produces: {"schema": op.response}}
    responses: dict[str, Any] = {str(op.status): {"description": "Done" if op.status == 201 else "OK",
                                                  "content": content}}
    for status in (*op.errors, 500):
        responses[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
    return responses


def spec_for(app: Flask) -> dict[str, Any]:
    """Built once per app (the routes do not change while it runs)."""
    found = app.extensions.get("ehcflow_api_spec")
    if found is None:
        found = app.extensions["ehcflow_api_spec"] = build_spec(app)
    return found


@bp.get("/openapi.json")
@operation(None, "This description, as OpenAPI 3", "about", produces="application/json")
def openapi_json() -> ResponseReturnValue:
    return json_response(spec_for(current_app._get_current_object()))  # type: ignore[attr-defined]


@bp.get("/docs")
@operation(None, "This description, as a page", "about", produces="text/html")
def docs() -> ResponseReturnValue:
    spec = spec_for(current_app._get_current_object())  # type: ignore[attr-defined]
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, operations in spec["paths"].items():
        for method, described in operations.items():
            if method in METHODS:
                groups.setdefault(described["tags"][0], []).append({"method": method.upper(), "path": path,
                                                                    **described})
    return render_template("api/docs.html", spec=spec, groups=groups, titles=TITLES)
