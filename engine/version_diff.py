"""What changed between two versions of a route: elements, forms and timers, and which instances could move."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff
from sqlalchemy.orm import Session

from engine.errors import InvalidState, NotFound
from engine.instance_migration import plan_migration, running_on
from engine.models import ProcessVersion
from engine.registry import describe


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


def diff_versions(engine: Any, session: Session, old_id: int, new_id: int) -> VersionDiff:
    old = session.get(ProcessVersion, old_id)
    new = session.get(ProcessVersion, new_id)
    if old is None or new is None:
        raise NotFound("No such version")
    if old.process_id != new.process_id:
        raise InvalidState("Both versions must be of the same route")
    result = VersionDiff(old.short_hash, new.short_hash)
    a, b = engine.load_version(old), engine.load_version(new)
    registry = engine.serializer.spec_registry
    pairs = [(a.spec, b.spec)] + [(a.subprocess_specs[n], b.subprocess_specs.get(n)) for n in a.subprocess_specs]
    for original, updated in pairs:
        if updated is None:
            result.removed.append(f"called process {original.name}")
            continue
        diff = SpecDiff(registry, original, updated)
        result.added += [_label(s) for s in diff.added if s.bpmn_id]
        result.removed += [_label(s) for s in diff.removed if s.bpmn_id]
        for spec, attributes in diff.changed.items():
            if spec.bpmn_id:
                result.changed[_label(spec)] = sorted(attributes)
    result.added += [f"called process {n}" for n in b.subprocess_specs if n not in a.subprocess_specs]
    old_forms = {k: v for k, v in old.files.items() if k.startswith("forms/")}
    new_forms = {k: v for k, v in new.files.items() if k.startswith("forms/")}
    result.forms_changed = sorted(k[6:] for k in old_forms.keys() & new_forms.keys() if old_forms[k] != new_forms[k])
    result.forms_added = sorted(k[6:] for k in new_forms.keys() - old_forms.keys())
    result.forms_removed = sorted(k[6:] for k in old_forms.keys() - new_forms.keys())
    old_timers = {t.bpmn_id: t.expression for t in describe(a.spec, a.subprocess_specs)[1]}
    new_timers = {t.bpmn_id: t.expression for t in describe(b.spec, b.subprocess_specs)[1]}
    for timer_id in sorted(old_timers.keys() | new_timers.keys()):
        if old_timers.get(timer_id) != new_timers.get(timer_id):
            result.timers_changed[timer_id] = (old_timers.get(timer_id), new_timers.get(timer_id))
    for instance_id in running_on(session, old.id):
        check = plan_migration(engine, instance_id, new.id)
        if check.allowed:
            result.can_migrate.append(instance_id)
        else:
            result.cannot_migrate[instance_id] = check.problems
    return result
