"""Intake for caseworkers: new requests for an EHC needs assessment, recording one that came by email, post or phone,
registering a request on a child's case, and closing one with a reason."""

from __future__ import annotations

from webui.intake import listing, record, request_page  # noqa: F401 - each registers its views on the blueprint
from webui.intake.blueprint import bp

__all__ = ["bp"]
