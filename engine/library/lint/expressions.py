"""Scripts, conditions and every other Python expression the engine evaluates: syntax, the sandbox, names used."""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator
from typing import Any

from engine.library.lint.document import NS, Document, bpmn_tag, flow_element_id, spiff_tag
from engine.library.lint.problems import Findings
from engine.library.sandbox import SAFE_BUILTINS, compile_check
from engine.library.script_functions import SCRIPT_FUNCTION_NAMES

_SANDBOX_LINE = re.compile(r"Line (\d+): (.*)\Z", re.DOTALL)

# Python builtins that a script cannot call because the sandbox does not provide them. A call can never be to task
# data (task data is JSON), so calling one of these is certain to fail with a NameError when the element runs.
_UNAVAILABLE_BUILTINS = frozenset(
    name for name in dir(builtins)
    if not name.startswith("_") and name not in SAFE_BUILTINS and name not in SCRIPT_FUNCTION_NAMES
)


# ---- 7. scripts ----------------------------------------------------------------------------------------------------
def check_scripts(findings: Findings, doc: Document) -> None:
    for task in doc.root.iter(bpmn_tag("scriptTask")):
        script = task.find("bpmn:script", NS)
        if script is None or not (script.text or "").strip():
            findings.add(doc.path, task.sourceline, task.get("id"), "script task has no script")
            continue
        _check_script(findings, doc, script, task.get("id"), "script")
    for tag, what in (("preScript", "pre-script"), ("postScript", "post-script")):
        for script in doc.root.iter(spiff_tag(tag)):
            if (script.text or "").strip():
                _check_script(findings, doc, script, flow_element_id(script), what)


def _check_script(findings: Findings, doc: Document, element: Any, element_id: str | None, what: str) -> None:
    text = element.text or ""
    base = element.sourceline
    try:
        tree = ast.parse(text, mode="exec")
    except (SyntaxError, ValueError) as exc:
        lineno = getattr(exc, "lineno", None) or 1
        findings.add(doc.path, _offset(base, lineno), element_id,
                     f"syntax error in the {what}, line {lineno}: {getattr(exc, 'msg', exc)}")
        return
    loop = next((node for node in ast.walk(tree) if isinstance(node, ast.While)), None)
    if loop is not None:
        # Nothing bounds a script's running time: a loop that never ends would hold the command (and its
        # database transaction) for ever. A for loop over a list always ends.
        findings.add(doc.path, _offset(base, loop.lineno), element_id,
                     f"the {what} uses a while loop, line {loop.lineno}; use a for loop over a list instead")
        return
    if _check_sandbox(findings, doc, text, "exec", base, element_id, what):
        _check_names(findings, doc, tree, base, element_id, what)


# ---- 7. conditions and other expressions the engine evaluates ------------------------------------------------------
def check_conditions(findings: Findings, doc: Document) -> None:
    for condition in doc.root.iter(bpmn_tag("conditionExpression")):
        check_expression(findings, doc, condition.text or "", condition.sourceline, flow_element_id(condition),
                         "condition")
    for tag, what in (("condition", "condition"), ("completionCondition", "completion condition"),
                      ("loopCondition", "loop condition"), ("loopCardinality", "loop cardinality")):
        for element in doc.root.iter(bpmn_tag(tag)):
            if tag == "condition" and element.getparent().tag != bpmn_tag("conditionalEventDefinition"):
                continue
            check_expression(findings, doc, element.text or "", element.sourceline, flow_element_id(element), what)
    for payload in doc.root.iter(spiff_tag("messagePayload")):
        if (payload.text or "").strip():
            check_expression(findings, doc, payload.text or "", payload.sourceline, flow_element_id(payload),
                             "message payload")


def check_expression(findings: Findings, doc: Document, text: str, line: int | None, element_id: str | None,
                     what: str) -> ast.Expression | None:
    if not text.strip():
        findings.add(doc.path, line, element_id, f"the {what} is empty")
        return None
    language = _foreign_language(text)
    if language:
        findings.add(doc.path, line, element_id,
                     f"{language} expressions are not supported: write the {what} in Python, e.g. age >= 16 and "
                     f'placement == "special" (found {text.strip()[:60]!r})')
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError) as exc:
        lineno = getattr(exc, "lineno", None) or 1
        where = f", line {lineno}" if "\n" in text.strip() else ""
        findings.add(doc.path, _offset(line, lineno), element_id,
                     f"syntax error in the {what}{where}: {getattr(exc, 'msg', exc)} in {text.strip()!r}")
        return None
    if not _check_sandbox(findings, doc, text, "eval", line, element_id, what):
        return None
    _check_names(findings, doc, tree, line, element_id, what)
    return tree


def _check_sandbox(findings: Findings, doc: Document, text: str, mode: str, base: int | None,
                   element_id: str | None, what: str) -> bool:
    try:
        objections = compile_check(text, mode)
    except Exception as exc:  # noqa: BLE001
        objections = [repr(exc)]
    by_line: dict[int, list[str]] = {}
    for objection in objections:
        match = _SANDBOX_LINE.match(objection)
        lineno, message = (int(match.group(1)), match.group(2)) if match else (1, objection)
        if message not in by_line.setdefault(lineno, []):
            by_line[lineno].append(message)
    for lineno, messages in sorted(by_line.items()):
        where = f", line {lineno}" if mode == "exec" else ""
        findings.add(doc.path, _offset(base, lineno), element_id,
                     f"the sandbox refuses the {what}{where}: {'; '.join(m.rstrip('.') for m in messages)}")
    return not by_line


def _check_names(findings: Findings, doc: Document, tree: ast.AST, base: int | None, element_id: str | None,
                 what: str) -> None:
    bound = _bound_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            findings.add(doc.path, _offset(base, node.lineno), element_id,
                         f"imports are not allowed in the {what} (the sandbox has no modules); "
                         "use the script functions of docs/bpmn-conventions.md")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in _UNAVAILABLE_BUILTINS and node.func.id not in bound):
            findings.add(doc.path, _offset(base, node.lineno), element_id,
                         f"the {what} calls {node.func.id}(), which is not available in the sandbox")
    for name, lineno in _task_data_assignments(tree):
        if name in SCRIPT_FUNCTION_NAMES:
            findings.add(doc.path, _offset(base, lineno), element_id,
                         f"the {what} sets '{name}', the name of a script function: task data with that name "
                         "stops every later script from running; use another name")


def _foreign_language(text: str) -> str | None:
    """The expression language of Camunda 7 (JUEL, ``${...}``) or Camunda 8 (FEEL, ``=...``), which modelers write."""
    stripped = text.strip()
    if stripped.startswith(("${", "#{")) and stripped.endswith("}"):
        return "JUEL"
    if stripped.startswith("=") and not stripped.startswith("=="):
        return "FEEL"
    return None


# ---- helpers -------------------------------------------------------------------------------------------------------
def _offset(base: int | None, lineno: int) -> int | None:
    return None if base is None else base + max(lineno, 1) - 1


def _bound_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _task_data_assignments(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Names a script binds at its top level: they become task data when the script ends."""
    def targets(node: ast.AST) -> Iterator[ast.Name]:
        if isinstance(node, ast.Name):
            yield node
        elif isinstance(node, ast.Tuple | ast.List):
            for element in node.elts:
                yield from targets(element)
        elif isinstance(node, ast.Starred):
            yield from targets(node.value)

    def statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
        for statement in body:
            yield statement
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue  # a new scope: its names do not become task data
            # Blocks do not open a scope in Python: names bound inside if/for/while/with/try are task data too.
            for attribute in ("body", "orelse", "finalbody"):
                inner = getattr(statement, attribute, None)
                if isinstance(inner, list):
                    yield from statements(inner)
            for handler in getattr(statement, "handlers", None) or []:
                yield from statements(handler.body)

    if not isinstance(tree, ast.Module):
        return
    for statement in statements(tree.body):
        found: list[ast.AST] = []
        if isinstance(statement, ast.Assign):
            found = list(statement.targets)
        elif isinstance(statement, ast.AugAssign | ast.AnnAssign | ast.For | ast.AsyncFor):
            found = [statement.target]
        elif isinstance(statement, ast.With | ast.AsyncWith):
            found = [item.optional_vars for item in statement.items if item.optional_vars is not None]
        for target in found:
            for name in targets(target):
                yield name.id, name.lineno
