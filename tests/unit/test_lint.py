"""engine.library.lint: every kind of mistake in a BPMN file or a form is reported with its file, line and element."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.library.lint.checker import check_files
from engine.library.lint.problems import Problem

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BROKEN = FIXTURES / "broken"
FORMS = FIXTURES / "forms"
VALID = FIXTURES / "valid" / "simple.bpmn"


def lint(*paths: Path, forms: Path = FORMS, extra_forms: dict[str, str] | None = None) -> list[Problem]:
    return check_files(list(paths), forms, extra_forms)


def line_of(path: Path, marker: str, occurrence: int = 1) -> int:
    """The line of the n-th line containing marker (so edited copies need no hard-coded numbers)."""
    hits = [number for number, text in enumerate(path.read_text().splitlines(), start=1) if marker in text]
    return hits[occurrence - 1]


# ---- one fixture per kind of mistake -------------------------------------------------------------------------------
# (fixture, file the problem is in, line, element id, part of the message)
BROKEN_CASES = [
    ("malformed_xml.bpmn", "malformed_xml.bpmn", 26, None,
     "malformed XML: Opening and ending tag mismatch: userTask line 18 and userTsk"),
    ("xsd_invalid.bpmn", "xsd_invalid.bpmn", 18, "UT_review",
     "not valid BPMN (XML schema): Element 'bpmn:userTask', attribute 'priority': The attribute 'priority' is not "
     "allowed"),
    ("missing_called_process.bpmn", "missing_called_process.bpmn", 19, "CA_advice",
     "calls process 'ehc_not_deployed', which is not defined in any of the files being checked"),
    ("bad_script_syntax.bpmn", "bad_script_syntax.bpmn", 23, "ST_prepare",
     "syntax error in the script, line 2: expected ':'"),
    ("bad_condition.bpmn", "bad_condition.bpmn", 43, "Flow_answer_yes",
     "syntax error in the condition: invalid syntax in 'answer = \"yes\"'"),
    ("unquoted_timer.bpmn", "unquoted_timer.bpmn", 37, "TE_review_due",
     'timer literal must be a quoted string, e.g. "P6W"'),
    ("bad_timer_expression.bpmn", "bad_timer_expression.bpmn", 37, "TE_review_due",
     "syntax error in the timer expression: '(' was never closed"),
    ("unknown_lane.bpmn", "unknown_lane.bpmn", 9, "Lane_1",
     "lane 'Parents' holds user tasks (UT_review) but is not a role; lanes with user tasks must be named one of: "
     "LA caseworker, LA manager"),
    ("missing_form.bpmn", "missing_form.bpmn", 21, "UT_review", "form file 'no_such_form.json' does not exist"),
    ("invalid_form_schema.bpmn", "invalid_form_schema.json", 5, "UT_review",
     "form invalid_form_schema.json is not a valid JSON Schema: 'answer' is not of type 'array' (at required)"),
    ("reserved_id.bpmn", "reserved_id.bpmn", 15, "Start", "the id 'Start' is reserved by the engine"),
    ("sandbox_escape.bpmn", "sandbox_escape.bpmn", 22, "ST_prepare",
     'the sandbox refuses the script, line 1: "__subclasses__" is an invalid attribute name'),
    ("flow_to_missing_element.bpmn", "flow_to_missing_element.bpmn", 30, "Flow_review_done",
     "sequence flow goes to 'EE_finished', which is not an element of process 'lint_flow_to_missing_element'"),
    ("bad_deadline_property.bpmn", "bad_deadline_property.bpmn", 22, "UT_review",
     "the 'deadline' property is only allowed on timer events, not on a userTask"),
]


@pytest.mark.parametrize(("fixture", "file", "line", "element_id", "message"), BROKEN_CASES,
                         ids=[case[0] for case in BROKEN_CASES])
def test_each_broken_fixture_reports_exactly_its_problem(fixture: str, file: str, line: int,
                                                         element_id: str | None, message: str) -> None:
    problems = lint(BROKEN / fixture)

    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    assert Path(problem.file).name == file
    assert (problem.line, problem.element_id) == (line, element_id)
    assert message in problem.message


def test_every_broken_fixture_has_a_case() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.bpmn")) == sorted(case[0] for case in BROKEN_CASES)


def test_problem_file_is_the_path_as_given() -> None:
    path = BROKEN / "reserved_id.bpmn"
    assert lint(path)[0].file == str(path)
    assert lint(BROKEN / "invalid_form_schema.bpmn")[0].file == str(FORMS / "invalid_form_schema.json")


def test_the_valid_fixture_has_no_problems() -> None:
    assert lint(VALID) == []


def test_all_fixtures_together_sorted_by_file_then_line() -> None:
    problems = lint(VALID, *sorted(BROKEN.glob("*.bpmn")))

    assert len(problems) == len(BROKEN_CASES)
    keys = [(p.file, p.line if p.line is not None else -1) for p in problems]
    assert keys == sorted(keys)


def test_sandbox_escape_is_refused_at_lint_time() -> None:
    [problem] = lint(BROKEN / "sandbox_escape.bpmn")

    for attribute in ("__subclasses__", "__base__", "__class__"):
        assert attribute in problem.message


# ---- Problem ------------------------------------------------------------------------------------------------------
def test_problem_str() -> None:
    assert str(Problem("workflows/a.bpmn", 12, "UT_x", "user task has no form")) == \
        "workflows/a.bpmn:12: UT_x: user task has no form"
    assert str(Problem("workflows/a.bpmn", None, None, "cannot read the file")) == \
        "workflows/a.bpmn:?: -: cannot read the file"


def test_problem_is_frozen_and_ordered() -> None:
    first, second = Problem("a.bpmn", 1, "X", "m"), Problem("a.bpmn", 2, "X", "m")
    assert sorted([second, first]) == [first, second]
    with pytest.raises(AttributeError):
        first.line = 3  # type: ignore[misc]


# ---- forms and extra_forms ----------------------------------------------------------------------------------------
GOOD_FORM = '{"type": "object", "properties": {"answer": {"type": "string"}}}'


def test_extra_forms_supply_a_missing_form() -> None:
    assert lint(BROKEN / "missing_form.bpmn", extra_forms={"no_such_form.json": GOOD_FORM}) == []


def test_extra_forms_win_over_the_forms_folder() -> None:
    assert lint(BROKEN / "invalid_form_schema.bpmn", extra_forms={"invalid_form_schema.json": GOOD_FORM}) == []

    [problem] = lint(VALID, extra_forms={"simple.json": '{\n  "type": "object",\n  "properties": {\n}}}'})
    assert problem == Problem(str(FORMS / "simple.json"), 4, "UT_decide",
                              "form simple.json is not valid JSON: Extra data (column 3)")


@pytest.mark.parametrize(("form", "line", "message"), [
    ('{\n  "type": "array",\n  "items": {"type": "string"}\n}', 2,
     'form f.json must have "type": "object" at the top level'),
    ('{\n  "type": "object",\n  "properties": {\n    "typename": {"type": "string"}\n  }\n}', 4,
     "form f.json has a field called 'typename'"),
    ('{\n  "type": "object",\n  "properties": {\n    "child": {\n      "type": "object",\n      "properties": {\n'
     '        "typename": {"type": "string"}\n      }\n    }\n  }\n}', 7,
     "form f.json has a field called 'typename'"),
    ('{\n  "type": "object",\n  "properties": {\n    "today": {"type": "string"}\n  }\n}', 4,
     "form f.json has a field called 'today', the name of a script function"),
    ('[1, 2]', 1, "form f.json must be a JSON object"),
    ('{\n  "type": "object",\n  "properties": {"a": {"type": "strin"}}\n}', 3,
     "form f.json is not a valid JSON Schema: 'strin' is not valid under any of the given schemas"),
])
def test_form_content_problems(tmp_path: Path, form: str, line: int, message: str) -> None:
    bpmn = copy_valid(tmp_path, ('value="simple.json"', 'value="f.json"'))

    [problem] = lint(bpmn, forms=tmp_path, extra_forms={"f.json": form})

    assert (problem.file, problem.line, problem.element_id) == (str(tmp_path / "f.json"), line, "UT_decide")
    assert message in problem.message


def test_a_form_used_twice_is_reported_once(tmp_path: Path) -> None:
    bpmn = copy_valid(tmp_path)
    other = copy_valid(tmp_path, ("lint_simple", "lint_other"), name="other.bpmn")

    problems = lint(bpmn, other, extra_forms={"simple.json": "{"})

    assert [p.file for p in problems] == [str(FORMS / "simple.json")]


def test_form_names_must_not_be_paths(tmp_path: Path) -> None:
    bpmn = copy_valid(tmp_path, ('value="simple.json"', 'value="../forms/simple.json"'))

    [problem] = lint(bpmn)

    assert problem.element_id == "UT_decide"
    assert "must be a file name in the forms folder" in problem.message


def test_user_task_without_form_property(tmp_path: Path) -> None:
    bpmn = copy_valid(tmp_path, ('<spiffworkflow:property name="formJsonSchemaFilename" value="simple.json" />', ""))

    [problem] = lint(bpmn)

    assert (problem.line, problem.element_id) == (line_of(bpmn, 'id="UT_decide"'), "UT_decide")
    assert "user task has no formJsonSchemaFilename property" in problem.message


def test_user_task_outside_any_lane(tmp_path: Path) -> None:
    bpmn = copy_valid(tmp_path, ("<bpmn:flowNodeRef>UT_decide</bpmn:flowNodeRef>", ""))

    [problem] = lint(bpmn)

    assert (problem.line, problem.element_id) == (line_of(bpmn, 'id="UT_decide"'), "UT_decide")
    assert problem.message.startswith("user task is not in a lane")


# ---- more mistakes, on copies of the valid fixture ------------------------------------------------------------------
def copy_valid(tmp_path: Path, *replacements: tuple[str, str], name: str = "simple.bpmn") -> Path:
    text = VALID.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("old", "new", "marker", "element_id", "message"), [
    ('<spiffworkflow:property name="dueDate" value="decide_by" />',
     '<spiffworkflow:property name="dueDate" value="decide_by +" />', 'name="dueDate"', "UT_decide",
     "syntax error in the dueDate expression"),
    ('value="final_plan_20w: add_weeks(today(), 20)"', 'value="final_plan_20w add_weeks(today(), 20)"',
     'name="opensDeadline"', "ST_yes", "opensDeadline must be written 'key: expression'"),
    ('value="final_plan_20w: add_weeks(today(), 20)"', 'value="final_plan_20w: add_weeks(today(), 20"',
     'name="opensDeadline"', "ST_yes", "syntax error in the opensDeadline expression"),
    ('value="final_plan_20w, decide_whether_to_assess"', 'value="final plan, decide_whether_to_assess"',
     'name="cancelsDeadlines"', "EE_not_assess", "cancelsDeadlines must be deadline keys separated by commas"),
    ("value='child_name or \"child\"'", 'value="child_name or"', 'name="deadlineDetail"', "TE_decide_due",
     "syntax error in the deadlineDetail expression"),
    ('deadline_at(decide_by)', '"P1W2D"', "<bpmn:timeDate", "TE_decide_due",
     "timer value 'P1W2D' is not an ISO 8601 date and time"),
    ('deadline_at(decide_by)', '"2026-05-01T17:00:00"', "<bpmn:timeDate", "TE_decide_due",
     "has no UTC offset"),
    ('deadline_at(decide_by)', '2026-05-01T17:00:00+01:00', "<bpmn:timeDate", "TE_decide_due",
     'timer literal must be a quoted string, e.g. "2026-05-01T17:00:00+01:00"'),
    ('deadline_at(decide_by)', 'decide_by.__class__', "<bpmn:timeDate", "TE_decide_due",
     "the sandbox refuses the timer expression"),
    ("<bpmn:script>late = True</bpmn:script>", "<bpmn:script>import os\nlate = True</bpmn:script>",
     "<bpmn:script>import os", "ST_late", "imports are not allowed in the script"),
    ("<bpmn:script>late = True</bpmn:script>", "<bpmn:script>late = True\nprint(late)</bpmn:script>",
     "print(late)", "ST_late", "the script calls print(), which is not available in the sandbox"),
    ("<bpmn:script>late = True</bpmn:script>", "<bpmn:script>today = True</bpmn:script>",
     "<bpmn:script>today", "ST_late", "the script sets 'today', the name of a script function"),
    ("<bpmn:script>late = True</bpmn:script>", "<bpmn:script>\n  late = True</bpmn:script>",
     "  late = True", "ST_late", "syntax error in the script, line 2: unexpected indent"),
    ("<bpmn:script>late = True</bpmn:script>", "<bpmn:script>late = True\nwhile late:\n    late = late</bpmn:script>",
     "while late:", "ST_late", "the script uses a while loop, line 2; use a for loop over a list instead"),
    ("<bpmn:script>late = True</bpmn:script>", "<bpmn:script> </bpmn:script>",
     'id="ST_late"', "ST_late", "script task has no script"),
    ('answer == "yes" and', '__import__("os") and', "<bpmn:conditionExpression", "Flow_answer_yes",
     "the sandbox refuses the condition"),
    ('default="Flow_answer_no"', 'default="Flow_elsewhere"', 'id="GW_answer"', "GW_answer",
     "default flow 'Flow_elsewhere' is not one of this gateway's outgoing sequence flows"),
    ('<spiffworkflow:property name="opensDeadline"', '<spiffworkflow:property name="planVersion" value="first" />'
     '<spiffworkflow:property name="document" value="no_such_letter" /><spiffworkflow:property name="opensDeadline"',
     'name="planVersion"', "ST_yes", "planVersion must be one of draft, final, amended, not 'first'"),
    ('<spiffworkflow:property name="opensDeadline"', '<spiffworkflow:property name="document" '
     'value="decision_to_assess, no_such_letter" /><spiffworkflow:property name="opensDeadline"',
     'name="document"', "ST_yes", "document template 'no_such_letter' does not exist"),
])
def test_mistakes_in_a_copy_of_the_valid_fixture(tmp_path: Path, old: str, new: str, marker: str,
                                                 element_id: str, message: str) -> None:
    bpmn = copy_valid(tmp_path, (old, new))

    problems = lint(bpmn)

    assert [message in p.message for p in problems].count(True) == 1, "\n".join(map(str, problems))
    [problem] = [p for p in problems if message in p.message]
    assert (problem.file, problem.line, problem.element_id) == (str(bpmn), line_of(bpmn, marker), element_id)


def test_names_that_may_be_task_data_are_not_flagged(tmp_path: Path) -> None:
    bpmn = copy_valid(tmp_path, ('answer == "yes" and', 'unknown_field == "yes" and len(other or []) &gt; 0 and'),
                      ("<bpmn:script>late = True</bpmn:script>", "<bpmn:script>late = not_set_yet</bpmn:script>"))

    assert lint(bpmn) == []


def test_spiffworkflow_structural_errors_get_a_line(tmp_path: Path) -> None:
    # A second flow leaving a script task: only gateways may split the flow.
    bpmn = copy_valid(tmp_path, (
        '<bpmn:sequenceFlow id="Flow_init_decide" sourceRef="ST_init" targetRef="UT_decide" />',
        '<bpmn:sequenceFlow id="Flow_init_decide" sourceRef="ST_init" targetRef="UT_decide" />'
        '<bpmn:sequenceFlow id="Flow_init_late" sourceRef="ST_init" targetRef="ST_late" />'))

    [problem] = lint(bpmn)

    assert (problem.line, problem.element_id) == (line_of(bpmn, 'id="ST_init"'), "ST_init")
    assert "only gateways may split the flow" in problem.message


def test_a_process_must_be_executable(tmp_path: Path) -> None:
    bpmn = copy_valid(tmp_path, ('isExecutable="true"', 'isExecutable="false"'))

    [problem] = lint(bpmn)

    assert (problem.line, problem.element_id) == (line_of(bpmn, "<bpmn:process "), "lint_simple")
    assert "not executable" in problem.message


# ---- several files -------------------------------------------------------------------------------------------------
def test_call_activities_resolve_across_files(tmp_path: Path) -> None:
    caller = tmp_path / "caller.bpmn"
    shutil.copy(BROKEN / "missing_called_process.bpmn", caller)
    callee = copy_valid(tmp_path, ("lint_simple", "ehc_not_deployed"), name="callee.bpmn")

    assert lint(caller, callee) == []


def test_duplicate_process_ids_across_files(tmp_path: Path) -> None:
    first = copy_valid(tmp_path, name="first.bpmn")
    second = copy_valid(tmp_path, name="second.bpmn")

    [problem] = lint(first, second)

    assert (problem.file, problem.line, problem.element_id) == (str(second), line_of(second, "<bpmn:process "),
                                                                "lint_simple")
    assert problem.message == f"process id 'lint_simple' is also used in {first}; process ids must be unique"


def test_a_broken_file_does_not_hide_the_others(tmp_path: Path) -> None:
    problems = lint(BROKEN / "malformed_xml.bpmn", BROKEN / "xsd_invalid.bpmn", BROKEN / "unquoted_timer.bpmn")

    assert [Path(p.file).name for p in problems] == ["malformed_xml.bpmn", "unquoted_timer.bpmn", "xsd_invalid.bpmn"]


# ---- bad input never raises -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read the file"),
    (b"", "malformed XML"),
    (b"\x00\xff\xfe binary", "malformed XML"),
    (b"<notbpmn/>", "not valid BPMN (XML schema)"),
    (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<d>&e;</d>',
     "the file declares a DOCTYPE"),
])
def test_bad_input_is_a_problem_not_an_exception(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "odd.bpmn"
    if content is not None:
        path.write_bytes(content)

    problems = lint(path)

    assert problems and all(p.file == str(path) for p in problems)
    assert message in problems[0].message
    assert "root:" not in " ".join(p.message for p in problems)


# ---- properties that start or tell other routes, and move a case ---------------------------------------------------
_OPENS = '<spiffworkflow:property name="opensDeadline"'


@pytest.mark.parametrize(("extra", "marker", "message"), [
    ('<spiffworkflow:property name="startsRoute" value="annual review" />', 'name="startsRoute"',
     "startsRoute must be a process id, not 'annual review'"),
    ('<spiffworkflow:property name="startsRoute" value="lint_simple" />'
     '<spiffworkflow:property name="startsRouteData" value="{&quot;a&quot;: " />', 'name="startsRouteData"',
     "syntax error in the startsRouteData expression"),
    ('<spiffworkflow:property name="messagePayload" value="{}" />', 'name="messagePayload"',
     "messagePayload is only read with the sendsMessage property, which this element does not have"),
    ('<spiffworkflow:property name="sendsMessage" value="appeal lodged" />', 'name="sendsMessage"',
     "sendsMessage must be a message name (letters, digits and _), not 'appeal lodged'"),
    ('<spiffworkflow:property name="sendsMessage" value="appeal_lodged" />'
     '<spiffworkflow:property name="messagePayload" value="{&quot;on&quot;: today().__class__}" />',
     'name="messagePayload"', "the sandbox refuses the messagePayload expression"),
    ('<spiffworkflow:property name="transferCase" value="move" />', 'name="transferCase"',
     "transferCase must be one of check, apply, export, health, not 'move'"),
])
def test_route_and_case_properties(tmp_path: Path, extra: str, marker: str, message: str) -> None:
    bpmn = copy_valid(tmp_path, (_OPENS, extra + _OPENS))

    problems = lint(bpmn)

    assert [message in p.message for p in problems].count(True) == 1, "\n".join(map(str, problems))
    [problem] = [p for p in problems if message in p.message]
    assert (problem.line, problem.element_id) == (line_of(bpmn, marker), "ST_yes")


def test_well_formed_route_properties_pass(tmp_path: Path) -> None:
    bpmn = copy_valid(tmp_path, (_OPENS, '<spiffworkflow:property name="startsRoute" value="lint_simple" />'
                                         '<spiffworkflow:property name="startsRouteData" value="{&quot;a&quot;: 1}" />'
                                         '<spiffworkflow:property name="sendsMessage" value="appeal_lodged" />'
                                         '<spiffworkflow:property name="messagePayload" value="{&quot;on&quot;: '
                                         'today()}" /><spiffworkflow:property name="transferCase" value="check" />'
                                         + _OPENS))

    assert lint(bpmn) == []


def test_a_deadline_on_a_timer_after_an_event_based_gateway_is_refused(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[1] / "engine" / "data" / "gateway_timer.bpmn"
    bpmn = tmp_path / "gateway.bpmn"
    bpmn.write_text(source.read_text().replace(
        '<bpmn:intermediateCatchEvent id="ICE_chase" name="5 working days">',
        '<bpmn:intermediateCatchEvent id="ICE_chase" name="5 working days"><bpmn:extensionElements>'
        '<spiffworkflow:properties><spiffworkflow:property name="deadline" value="chase" />'
        '</spiffworkflow:properties></bpmn:extensionElements>'))
    forms = Path(__file__).resolve().parents[1] / "engine" / "data" / "forms"
    assert lint(source, forms=forms) == []

    [problem] = lint(bpmn, forms=forms)

    assert (problem.line, problem.element_id) == (line_of(bpmn, 'name="deadline"'), "ICE_chase")
    assert problem.message.startswith("a timer after an event-based gateway cannot carry a deadline")


def test_a_doctype_is_refused_and_no_entity_is_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    text = VALID.read_text()
    head, _, rest = text.partition("?>")
    bpmn = tmp_path / "entities.bpmn"
    bpmn.write_text(f'{head}?>\n<!DOCTYPE d [<!ENTITY leak SYSTEM "file://{secret}">]>{rest}'
                    .replace('<bpmn:script>late = True</bpmn:script>', '<bpmn:script>late = "&leak;"</bpmn:script>'))

    [problem] = lint(bpmn)

    assert problem.message.startswith("the file declares a DOCTYPE; BPMN files must not")
    assert "do not read me" not in str(problem)


# ---- routes started by hand: properties of a process's plain start event --------------------------------------------
_START = '<bpmn:startEvent id="SE_start" name="Start">\n'


def _start_props(*pairs: tuple[str, str]) -> str:
    from xml.sax.saxutils import quoteattr

    body = "".join(f'<spiffworkflow:property name="{name}" value={quoteattr(value)} />' for name, value in pairs)
    return f"<bpmn:extensionElements><spiffworkflow:properties>{body}</spiffworkflow:properties></bpmn:extensionElements>"


def _with_start_props(tmp_path: Path, *pairs: tuple[str, str]) -> Path:
    return copy_valid(tmp_path, (_START, _START + _start_props(*pairs) + "\n"))


_BY = ("startableBy", "LA caseworker")
ROOT_WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows" / "ehc_needs_assessment.bpmn"


def test_well_formed_hand_start_properties_pass(tmp_path: Path) -> None:
    bpmn = _with_start_props(tmp_path, ("startableBy", "LA caseworker, Family, LA decision panel"),
                             ("startableWhen", 'plan_in_force and "x" not in running and not any(r == "y" for r in '
                                               'running) and (case_open or not open_assessment)'),
                             ("startableAlongside", "true"), ("startLabel", "Start it"),
                             ("startLabelFamily", "Ask for it"), ("startHelp", "What it is."),
                             ("startHelpFamily", "What it is, for families."), ("startForm", "simple.json"))

    assert lint(bpmn) == []


@pytest.mark.parametrize(("pairs", "marker", "message"), [
    ((("startableBy", "LA caseworker, Parents"),), 'name="startableBy"',
     "startableBy names 'Parents', which is not a lane; use: LA caseworker, LA manager"),
    ((("startableBy", " , "),), 'name="startableBy"', "startableBy names no lane"),
    ((_BY, ("startableWhen", "plan_in_force and")), 'name="startableWhen"',
     "syntax error in the startableWhen expression"),
    ((_BY, ("startableWhen", "plan_in_force and child_name == 'Alex' and today()")), 'name="startableWhen"',
     "startableWhen may only use plan_in_force, open_assessment, running, case_open, not 'child_name', 'today'"),
    ((_BY, ("startableWhen", "running.__class__")), 'name="startableWhen"',
     "the sandbox refuses the startableWhen expression"),
    ((_BY, ("startableAlongside", "maybe")), 'name="startableAlongside"',
     "startableAlongside must be true or false, not 'maybe'"),
    ((_BY, ("startLabel", " ")), 'name="startLabel"', "startLabel is empty"),
    ((_BY, ("startLabelFamily", "Ask " * 30)), 'name="startLabelFamily"',
     "startLabelFamily is longer than 80 characters"),
    ((_BY, ("startForm", "no_such_form.json")), 'name="startForm"',
     "form file 'no_such_form.json' does not exist"),
    ((_BY, ("startForm", "../forms/simple.json")), 'name="startForm"',
     "form '../forms/simple.json' must be a file name in the forms folder, not a path"),
    ((("startLabel", "Start it"), ("startForm", "simple.json")), 'name="startLabel"',
     "startLabel is only read with the startableBy property, which this start event does not have"),
])
def test_hand_start_property_mistakes(tmp_path: Path, pairs: tuple[tuple[str, str], ...], marker: str,
                                      message: str) -> None:
    bpmn = _with_start_props(tmp_path, *pairs)

    problems = lint(bpmn)

    assert [message in p.message for p in problems].count(True) == 1, "\n".join(map(str, problems))
    [problem] = [p for p in problems if message in p.message]
    assert (problem.file, problem.line, problem.element_id) == (str(bpmn), line_of(bpmn, marker), "SE_start")


def test_hand_start_properties_only_on_a_plain_process_start(tmp_path: Path) -> None:
    on_task = copy_valid(tmp_path, (_OPENS, '<spiffworkflow:property name="startableBy" value="Family" />' + _OPENS),
                         name="on_task.bpmn")
    message_start = copy_valid(
        tmp_path, ('<bpmn:collaboration', '<bpmn:message id="Message_go" name="go" />\n  <bpmn:collaboration'),
        (_START, _START + _start_props(_BY)),
        ("<bpmn:outgoing>Flow_start_init</bpmn:outgoing>",
         '<bpmn:outgoing>Flow_start_init</bpmn:outgoing>'
         '<bpmn:messageEventDefinition id="MED_go" messageRef="Message_go" />'),
        name="message_start.bpmn")
    sub_process = ROOT_WORKFLOWS.read_text().replace(
        '<bpmn:startEvent id="SE_decide_assess" name="Views and evidence in">',
        '<bpmn:startEvent id="SE_decide_assess" name="Views and evidence in">' + _start_props(_BY))
    nested = tmp_path / "ehc_needs_assessment.bpmn"
    nested.write_text(sub_process)

    [task] = [p for p in lint(on_task) if "startableBy" in p.message]
    [message] = [p for p in lint(message_start) if "startableBy" in p.message]
    [inner] = [p for p in lint(nested, forms=ROOT_WORKFLOWS.parents[1] / "forms") if "startableBy" in p.message]

    assert (task.element_id, task.line) == ("ST_yes", line_of(on_task, 'name="startableBy"'))
    assert task.message == ("startableBy is only read on the start event of a process without a trigger (the "
                            "route's plain start), not on a scriptTask")
    assert message.element_id == "SE_start"
    assert message.message.endswith("not on a start event with a message trigger (it is started by that)")
    assert inner.element_id == "SE_decide_assess"
    assert inner.message.endswith("not on the start event of a sub-process")


def test_a_start_form_is_checked_and_may_not_ask_for_the_cases_facts(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "simple.json").write_text((FORMS / "simple.json").read_text())
    (forms / "start.json").write_text(
        '{\n  "type": "object",\n  "properties": {\n    "reason": {"type": "string"},\n'
        '    "case_id": {"type": "integer"}\n  }\n}\n')
    (forms / "broken.json").write_text('{"type": "object", "required": "reason"}')
    good = _with_start_props(tmp_path, _BY, ("startForm", "start.json"))

    [facts] = lint(good, forms=forms)
    [broken] = lint(copy_valid(tmp_path, (_START, _START + _start_props(_BY, ("startForm", "broken.json"))),
                               name="broken.bpmn"), forms=forms)

    assert (facts.file, facts.line, facts.element_id) == (str(forms / "start.json"), 5, "SE_start")
    assert facts.message.startswith("form start.json asks for 'case_id', which every route is given from its case")
    assert broken.file == str(forms / "broken.json")
    assert "is not a valid JSON Schema" in broken.message


# ---- plain and manual tasks (issue 14) -----------------------------------------------------------------------------
def test_plain_and_manual_tasks_in_a_role_lane_are_accepted(tmp_path: Path) -> None:
    bpmn = copy_valid(tmp_path, ('<bpmn:scriptTask id="ST_yes"', '<bpmn:manualTask id="ST_yes"'),
                      ('<bpmn:script>decision = "assess"</bpmn:script>\n    </bpmn:scriptTask>', "</bpmn:manualTask>"))
    assert lint(bpmn) == []


@pytest.mark.parametrize("tag", ["manualTask", "task"])
def test_plain_and_manual_tasks_must_be_in_a_role_lane(tmp_path: Path, tag: str) -> None:
    bpmn = copy_valid(tmp_path, ('<bpmn:scriptTask id="ST_yes"', f'<bpmn:{tag} id="ST_yes"'),
                      ('<bpmn:script>decision = "assess"</bpmn:script>\n    </bpmn:scriptTask>', f"</bpmn:{tag}>"),
                      ("<bpmn:flowNodeRef>ST_yes</bpmn:flowNodeRef>", ""))

    [problem] = lint(bpmn)

    assert (problem.line, problem.element_id) == (line_of(bpmn, 'id="ST_yes"'), "ST_yes")
    kind = "manual task" if tag == "manualTask" else "task"
    assert problem.message.startswith(f"{kind} is not in a lane; put it in the lane of the role that does it")


def test_a_manual_task_with_a_form_is_told_to_be_a_user_task(tmp_path: Path) -> None:
    bpmn = copy_valid(tmp_path, ('<bpmn:userTask id="UT_decide" name="Decide">', '<bpmn:manualTask id="UT_decide">'),
                      ("</bpmn:userTask>", "</bpmn:manualTask>"))

    problems = [p for p in lint(bpmn) if p.element_id == "UT_decide"]

    assert [p.message for p in problems] == [
        "a manual task shows no form (people only mark it as done); make it a userTask to show form 'simple.json'"]


# ---- scripts: one source of truth with the sandbox -------------------------------------------------------------------
def test_tuple_unpacking_passes_the_check(tmp_path: Path) -> None:
    bpmn = copy_valid(tmp_path, ("answers = [a for a in (1, 2, 3) if a &gt; 1]",
                                 "low, high = 1, 2\nanswers = [a for a in (low, high, 3) if a &gt; 1]"))
    assert lint(bpmn) == []


@pytest.mark.parametrize(("expression", "message"), [
    ("9 ** 9 ** 9", "the power 9 ** 387420489 is too large to work out"),
    ("'x' * 10 ** 10", "repeating it 10000000000 times makes more than 1,000,000 items"),
    ("range(10 ** 6)", "range() gives fewer than 1000 numbers"),
])
def test_obviously_costly_scripts_are_refused(tmp_path: Path, expression: str, message: str) -> None:
    bpmn = copy_valid(tmp_path, ("total = 0\n", f"total = 0\nbig = {expression}\n"))

    [problem] = lint(bpmn)

    assert (problem.line, problem.element_id) == (line_of(bpmn, "big = "), "ST_init")
    assert problem.message == f"the sandbox refuses the script, line 4: {message}"


# ---- call activities: processes defined elsewhere --------------------------------------------------------------------
def test_a_call_to_a_process_defined_elsewhere_is_accepted() -> None:
    assert lint(BROKEN / "missing_called_process.bpmn") != []
    assert check_files([BROKEN / "missing_called_process.bpmn"], FORMS, other_processes={"ehc_not_deployed"}) == []


def test_cli_check_resolves_calls_from_the_folder_and_the_database(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from engine.library.registry import ProcessRegistry
    from engine.runtime.workflow_engine import WorkflowEngine
    from engine.statutory.clock import FrozenClock
    from engine.store.db import make_engine, make_session_factory
    from engine.store.migrate import upgrade
    from webui.cli import main

    caller = tmp_path / "routes" / "caller.bpmn"
    caller.parent.mkdir()
    shutil.copy(BROKEN / "missing_called_process.bpmn", caller)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")  # no such file: not created
    result = CliRunner().invoke(main, ["workflows", "check", "--forms", str(FORMS), str(caller)])
    assert result.exit_code == 1 and "calls process 'ehc_not_deployed'" in result.output
    assert not (tmp_path / "empty.sqlite3").exists()

    # Deployed in the database: found there.
    callee = copy_valid(tmp_path, ("lint_simple", "ehc_not_deployed"), name="callee.bpmn")
    db = make_engine(f"sqlite:///{tmp_path / 'deployed.sqlite3'}")
    upgrade(db)
    WorkflowEngine(make_session_factory(db), FrozenClock(datetime(2026, 3, 2, 10, tzinfo=UTC))).deploy(
        ProcessRegistry.from_files([callee], FORMS))
    db.dispose()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'deployed.sqlite3'}")
    result = CliRunner().invoke(main, ["workflows", "check", "--forms", str(FORMS), str(caller)])
    assert result.exit_code == 0, result.output
    assert "OK: 1 file(s), 1 process(es), no problems." in result.output

    # In the same folder as the file checked: found there, and described with it.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    shutil.move(str(callee), caller.parent / "callee.bpmn")
    result = CliRunner().invoke(main, ["workflows", "check", "--forms", str(FORMS), str(caller)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("lint_missing_called_process ")


@pytest.mark.parametrize(("lane", "value", "message"), [
    ("LA caseworker", "young_person", "familyMember is only read on a task in the Family lane, not in lane "
                                      "'LA caseworker'"),
    ("Family", "the_child", "familyMember must be 'young_person' (the task is the young person's), not 'the_child'"),
])
def test_family_member_is_refused_where_it_would_be_ignored(tmp_path: Path, lane: str, value: str,
                                                            message: str) -> None:
    bpmn = tmp_path / "member.bpmn"
    bpmn.write_text(VALID.read_text().replace('name="LA caseworker"', f'name="{lane}"').replace(
        '<spiffworkflow:property name="dueDate" value="decide_by" />',
        f'<spiffworkflow:property name="dueDate" value="decide_by" />'
        f'<spiffworkflow:property name="familyMember" value="{value}" />'))
    [problem] = lint(bpmn)
    assert (problem.line, problem.element_id, problem.message) == (line_of(bpmn, "familyMember"), "UT_decide",
                                                                   message)


def test_family_member_young_person_on_a_family_task_is_accepted(tmp_path: Path) -> None:
    bpmn = tmp_path / "member.bpmn"
    bpmn.write_text(VALID.read_text().replace('name="LA caseworker"', 'name="Family"').replace(
        '<spiffworkflow:property name="dueDate" value="decide_by" />',
        '<spiffworkflow:property name="dueDate" value="decide_by" />'
        '<spiffworkflow:property name="familyMember" value="young_person" />'))
    assert lint(bpmn) == []
