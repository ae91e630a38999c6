"""The API's request and response shapes, as marshmallow schemas: they check what arrives (the query string and the
JSON body) and they are the schemas of the OpenAPI description (webui/api/openapi.py), so the description cannot drift
from what the views accept and return. A task's or a message's own answers are not described here: each form has its
JSON Schema, checked by the engine as on the web (engine/library/forms.py)."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from webui.api.problems import ApiProblem

MAX_LIMIT = 100


# ---- what arrives ----------------------------------------------------------------------------------------------------

class PageArgs(Schema):
    class Meta:
        unknown = RAISE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000),
                          metadata={"description": "The page to return, from 1 (the `next` link gives the next one)"})
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": f"Items per page, at most {MAX_LIMIT}"})


class CursorPageArgs(PageArgs):
    after = fields.String(load_default=None, validate=validate.Length(max=1000), metadata={
        "description": "Past the first 1,000 items: where the page starts, as the `next` link of the page before gives "
                       "it (keyset paging; with it, `page` only numbers the page)"})


class CaseSearchArgs(CursorPageArgs):
    q = fields.String(load_default="", validate=validate.Length(max=100), metadata={
        "description": "The child's name, the case reference, a date of birth (14/05/2015 or 2015-05-14), a postcode "
                       "(whole or its first part) or a unique pupil number, as the web search takes them"})


class TaskListArgs(CursorPageArgs):
    view = fields.String(load_default="mine", validate=validate.OneOf(["mine", "team"]), metadata={
        "description": "mine: the tasks the token may act on; team: its role's tasks in its organisation"})
    q = fields.String(load_default="", validate=validate.Length(max=100))
    route = fields.String(load_default="", validate=validate.Length(max=100),
                          metadata={"description": "Only the tasks of this route (its process id)"})


class ReportArgs(Schema):
    class Meta:
        unknown = RAISE

    la = fields.Integer(load_default=None, metadata={"description": "The local authority's id (default: the first "
                                                                    "the token reports on)"})


class TimelinessArgs(ReportArgs):
    by = fields.String(load_default="month", validate=validate.OneOf(["month", "year"]))


class TaskCompletion(Schema):
    class Meta:
        unknown = RAISE

    data = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "The answers, as the task's form (its JSON Schema, `form` on the task) defines them"})


class RouteStart(Schema):
    class Meta:
        unknown = RAISE

    data = fields.Dict(keys=fields.String(), load_default=dict, metadata={
        "description": "The answers to the route's start form, when it has one (`form` on the route)"})


class MessageSend(Schema):
    class Meta:
        unknown = RAISE

    payload = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "The message's answers, as its form (`form` on the message) defines them"})


def load_query(schema: type[Schema]) -> dict[str, Any]:
    """The query string, checked (400 with the errors by parameter)."""
    try:
        loaded: dict[str, Any] = schema().load(request.args.to_dict())
    except ValidationError as exc:
        raise ApiProblem(400, "The query parameters are not valid.", errors=_flat(exc.messages)) from None
    return loaded


def load_body(schema: type[Schema]) -> dict[str, Any]:
    """The JSON body, checked (415 when it is not JSON, 400 when it does not parse or has the wrong shape)."""
    if not request.is_json:
        raise ApiProblem(415, "Send the body as JSON, with Content-Type: application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiProblem(400, "The body must be a JSON object.")
    try:
        loaded: dict[str, Any] = schema().load(body)
    except ValidationError as exc:
        raise ApiProblem(400, "The body is not valid.", errors=_flat(exc.messages)) from None
    return loaded


def _flat(messages: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, list):
        out[prefix or "body"] = " ".join(str(m) for m in messages)
    else:
        out[prefix or "body"] = str(messages)
    return out


# ---- what is returned --------------------------------------------------------------------------------------------------

class Out(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True


class Problem(Out):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.String(),
                         metadata={"description": "What is wrong, by field"})


class CaseRow(Out):
    id = fields.Integer()
    reference = fields.String()
    child_name = fields.String()
    la_name = fields.String()
    status = fields.String()
    stage = fields.String(allow_none=True)
    open_tasks = fields.Integer()


class Party(Out):
    role = fields.String()
    name = fields.String()
    relationship = fields.String(allow_none=True)
    organisation_id = fields.Integer(allow_none=True)


class Case(Out):
    id = fields.Integer()
    reference = fields.String()
    child_first_name = fields.String()
    child_last_name = fields.String()
    date_of_birth = fields.Date(allow_none=True)
    postcode = fields.String(allow_none=True)
    upn = fields.String(allow_none=True)
    la_id = fields.Integer()
    la_name = fields.String()
    status = fields.String()
    stage = fields.String(allow_none=True)
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    parties = fields.List(fields.Nested(Party))


class Deadline(Out):
    id = fields.Integer()
    key = fields.String()
    name = fields.String()
    process_id = fields.String(allow_none=True)
    due_date = fields.Date()
    started_on = fields.Date(allow_none=True)
    status = fields.String()
    state = fields.String(metadata={"description": "As the case page shows it: met, missed, overdue, due soon, …"})
    missed = fields.Boolean()
    met_at = fields.DateTime(allow_none=True)
    exception_reason = fields.String(allow_none=True)


class Document(Out):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    issued_at = fields.DateTime()
    appealable = fields.Boolean()
    download = fields.String(metadata={"description": "The document as an HTML file"})


class TaskRow(Out):
    id = fields.Integer()
    name = fields.String()
    detail = fields.String(allow_none=True)
    case_id = fields.Integer()
    case_reference = fields.String()
    child_name = fields.String()
    route_id = fields.String()
    route_name = fields.String()
    due_date = fields.Date(allow_none=True)
    status = fields.String(metadata={"description": "overdue, due_soon, due, no_date or exception"})
    role = fields.String(allow_none=True)
    organisation_id = fields.Integer(allow_none=True)
    assignee_name = fields.String(allow_none=True)
    created_at = fields.DateTime()
    can_act = fields.Boolean()


class Task(Out):
    id = fields.Integer()
    name = fields.String()
    detail = fields.String(allow_none=True)
    case_id = fields.Integer()
    instance_id = fields.Integer()
    route_id = fields.String()
    status = fields.String(metadata={"description": "open, completed or cancelled"})
    role = fields.String(allow_none=True)
    organisation_id = fields.Integer(allow_none=True)
    due_date = fields.Date(allow_none=True)
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    form = fields.Dict(allow_none=True, metadata={"description": "The JSON Schema of the task's answers"})
    answers = fields.Dict(allow_none=True, metadata={"description": "What was submitted, once the task is done"})


class StartOption(Out):
    process_id = fields.String()
    name = fields.String()
    label = fields.String()
    help = fields.String(allow_none=True)
    allowed = fields.Boolean(metadata={"description": "Whether this token may start it (its role is on the route's "
                                                      "start event)"})
    form = fields.Dict(allow_none=True, metadata={"description": "The JSON Schema of the start form, if any"})


class WaitingRoute(Out):
    instance_id = fields.Integer()
    route = fields.String()


class OfferedMessage(Out):
    name = fields.String()
    title = fields.String()
    summary = fields.String()
    form = fields.Dict(metadata={"description": "The JSON Schema of the message's answers"})
    waiting = fields.List(fields.Nested(WaitingRoute))
    starts = fields.String(allow_none=True, metadata={"description": "The route it starts when none waits for it"})


class Started(Out):
    instance_id = fields.Integer()
    case_id = fields.Integer()


class TimelinessRow(Out):
    measure = fields.String()
    period = fields.String()
    completed = fields.Integer()
    on_time = fields.Integer()
    late_with_exception = fields.Integer()
    on_time_with_exception = fields.Integer()
    percent = fields.Float(allow_none=True)
    percent_excluding_exceptions = fields.Float(allow_none=True)


class Timeliness(Out):
    la_id = fields.Integer()
    la_name = fields.String()
    by = fields.String()
    rows = fields.List(fields.Nested(TimelinessRow))
    plans_without_request = fields.Integer()


class Count(Out):
    label = fields.String()
    count = fields.Integer()


class StageTasks(Out):
    route = fields.String()
    step = fields.String()
    count = fields.Integer()


class WorkInProgress(Out):
    la_id = fields.Integer()
    la_name = fields.String()
    open_cases_by_stage = fields.List(fields.Nested(Count))
    overdue_by_route = fields.List(fields.Nested(Count))
    overdue_by_team = fields.List(fields.Nested(Count))
    open_tasks_by_stage = fields.List(fields.Nested(StageTasks))
