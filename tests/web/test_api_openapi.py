"""The API's OpenAPI description: a valid OpenAPI 3 document that lists every /api/v1 rule of the app, served as JSON
without a token, and drawn as a GOV.UK page from the same description (no assets from anywhere else)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from openapi_spec_validator import validate

from tests.web.conftest import Client, soup
from webui.api.openapi import openapi_path


def spec_of(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec: dict[str, Any] = response.get_json()
    return spec


def test_the_description_is_valid_openapi_3(app: Flask) -> None:
    spec = spec_of(app)
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "An API token issued on the admin pages"}


def test_it_lists_every_api_rule_of_the_app_and_nothing_else(app: Flask) -> None:
    spec = spec_of(app)
    rules = {(openapi_path(r), m.lower()) for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")
             for m in (r.methods or set()) - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, operations in spec["paths"].items() for method in operations}
    assert described == rules
    assert len(rules) >= 17


def test_each_operation_says_how_it_is_called_and_how_it_fails(app: Flask) -> None:
    for path, operations in spec_of(app)["paths"].items():
        for method, op in operations.items():
            assert op["summary"] and op["tags"] and op["operationId"], (path, method)
            variables = set(re.findall(r"{([^}]+)}", path))
            assert {p["name"] for p in op["parameters"] if p["in"] == "path"} == variables
            if path.endswith(("openapi.json", "/docs")):
                assert op["security"] == []
                continue
            assert op["security"] == [{"bearer": []}] and op["x-scope"] == ("read" if method == "get" else "write")
            for status in ("401", "429", "500"):
                assert op["responses"][status] == {"$ref": f"#/components/responses/Problem{status}"}
            if method == "post":
                assert "422" in op["responses"] and "requestBody" in op


def test_the_page_lists_every_operation_from_the_same_description(client: Client, app: Flask) -> None:
    spec = spec_of(app)
    page = soup(client.get("/api/v1/docs"))
    assert page.select_one("h1").get_text(strip=True) == "EHC Flow API"
    for path, operations in spec["paths"].items():
        for op in operations.values():
            row = page.select_one(f"#op-{op['operationId']}")
            assert row is not None and path in row.get_text(" "), path
    for tag in page.select("script[src], link[href], img[src]"):
        assert not re.match(r"(https?:)?//", tag.get("src") or tag.get("href") or ""), tag
