"""What changed between two versions of a route: elements, forms and timers, and which instances could move."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff
from sqlalchemy.orm import Session

from engine.admin.instance_migration import plan_migration, running_on
from engine.errors import InvalidState, NotFound
from engine.library.registry import describe
from engine.store.models import ProcessVersion


@dataclass
class VersionDiff:
    old: str
    new: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    forms_changed: list[str] = field(default_factory=list)
    forms_added: list[str] = field(default_factory=list)
    forms_removed: list[str] = field(default_factory=list)
    timers_changed: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    can_migrate: list[int] = field(default_factory=list)
    cannot_migrate: dict[int, list[str]] = field(default_factory=dict)


def _label(spec: Any) -> str:
    return f"{spec.bpmn_name or spec.bpmn_id} [{spec.bpmn_id}]"


def diff_specs(engine: Any, old: ProcessVersion, spec: Any, subs: dict[str, Any], files: dict[str, str],
               new_label: str) -> VersionDiff:
    """Elements, forms and timers that differ from the old version to the given specs and files (deployed as a
    version or only uploaded)."""
    result = VersionDiff(old.short_hash, new_label)
    a = engine.load_version(old)
    registry = engine.serializer.spec_registry
    for name, original in [(None, a.spec), *a.subprocess_specs.items()]:
        updated = spec if name is None else subs.get(name)
        if updated is None:
            result.removed.append(f"called process {original.name}")
            continue
        diff = SpecDiff(registry, original, updated)
        result.added += [_label(s) for s in diff.added if s.bpmn_id]
        result.removed += [_label(s) for s in diff.removed if s.bpmn_id]
        for changed, attributes in diff.changed.items():
            if changed.bpmn_id:
                result.changed[_label(changed)] = sorted(attributes)
    result.added += [f"called process {n}" for n in subs if n not in a.subprocess_specs]
    old_forms = {k[6:]: v for k, v in (old.files or {}).items() if k.startswith("forms/")}
    new_forms = {k[6:]: v for k, v in files.items() if k.startswith("forms/")}
    result.forms_changed = sorted(k for k in old_forms.keys() & new_forms.keys() if old_forms[k] != new_forms[k])
    result.forms_added = sorted(new_forms.keys() - old_forms.keys())
    result.forms_removed = sorted(old_forms.keys() - new_forms.keys())
    old_timers = {t.bpmn_id: t.expression for t in describe(a.spec, a.subprocess_specs)[1]}
    new_timers = {t.bpmn_id: t.expression for t in describe(spec, subs)[1]}
    for timer_id in sorted(old_timers.keys() | new_timers.keys()):
        if old_timers.get(timer_id) != new_timers.get(timer_id):
            result.timers_changed[timer_id] = (old_timers.get(timer_id), new_timers.get(timer_id))
    return result


def diff_versions(engine: Any, session: Session, old_id: int, new_id: int) -> VersionDiff:
    old = session.get(ProcessVersion, old_id)
    new = session.get(ProcessVersion, new_id)
    if old is None or new is None:
        raise NotFound("No such version")
    if old.process_id != new.process_id:
        raise InvalidState("Both versions must be of the same route")
    b = engine.load_version(new)
    result = diff_specs(engine, old, b.spec, b.subprocess_specs, new.files or {}, new.short_hash)
    for instance_id in running_on(session, old.id):
        check = plan_migration(engine, instance_id, new.id)
        if check.allowed:
            result.can_migrate.append(instance_id)
        else:
            result.cannot_migrate[instance_id] = check.problems
    return result
