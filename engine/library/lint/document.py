"""A parsed BPMN file under check, its namespaces, and finding the element (and its id) a problem is about."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}


def bpmn_tag(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def spiff_tag(tag: str) -> str:
    return f"{{{SPIFF_NS}}}{tag}"


SUBPROCESS_TAGS = frozenset(bpmn_tag(name) for name in ("subProcess", "transaction", "adHocSubProcess"))


@dataclass
class Document:
    path: str
    tree: Any  # lxml ElementTree
    schema_valid: bool = False
    # False when a process id in this file is already defined in an earlier file: SpiffWorkflow refuses to add it.
    combinable: bool = True
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Any:
        return self.tree.getroot()

    def processes(self) -> list[Any]:
        return self.root.findall("bpmn:process", NS)

    def line_of(self, element_id: str | None) -> int | None:
        if not element_id:
            return None
        element = self.ids.get(element_id)
        return element.sourceline if element is not None else None


def owning_id(element: Any) -> str | None:
    while element is not None:
        if isinstance(element.tag, str) and element.get("id"):
            return str(element.get("id"))
        element = element.getparent()
    return None


def flow_element_id(element: Any) -> str | None:
    """The id of the task, event, gateway or flow an inner element belongs to.

    Inner elements such as a timerEventDefinition may carry ids of their own, but people look for the element on
    the diagram, which is the direct child of a process or sub-process.
    """
    containers = {bpmn_tag("process"), *SUBPROCESS_TAGS}
    node = element
    while node is not None:
        parent = node.getparent()
        if parent is not None and parent.tag in containers and node.get("id"):
            return str(node.get("id"))
        node = parent
    return owning_id(element)


def owner_of_extension(element: Any) -> Any:
    parent = element.getparent()
    if parent is not None and parent.tag == bpmn_tag("extensionElements"):
        return parent.getparent()
    return None


def top_process_id(element: Any) -> str | None:
    while element is not None:
        if element.tag == bpmn_tag("process"):
            return element.get("id")
        element = element.getparent()
    return None

