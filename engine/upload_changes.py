"""What changed between a deployed version of a route and another version of it, deployed or only uploaded: elements
added, removed and changed, forms and timers changed (as engine/version_diff.py), and which running instances could
move, checked for a limited number of them at a time so that the page stays quick on a route with many cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff
from sqlalchemy.orm import Session

from engine.instance_migration import plan_migration, running_on
from engine.models import ProcessVersion
from engine.registry import ParsedProcess, describe
from engine.version_diff import VersionDiff

CHECK_AT_MOST = 200


@dataclass
class Comparison:
    diff: VersionDiff
    not_checked: int = 0  # instances on the old version beyond CHECK_AT_MOST, checked once the first ones moved


def _label(spec: Any) -> str:
    return f"{spec.bpmn_name or spec.bpmn_id} [{spec.bpmn_id}]"


def spec_changes(engine: Any, old: ProcessVersion, spec: Any, subs: dict[str, Any], files: dict[str, str],
                 new_hash: str) -> VersionDiff:
    """Elements, forms and timers that differ from the old version to the given specs and files."""
    result = VersionDiff(old.short_hash, new_hash[:10])
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


def upload_changes(engine: Any, current: ProcessVersion, process: ParsedProcess) -> VersionDiff:
    """From the current version to a parsed, not yet deployed, process."""
    # Compared as stored, so that both sides went through the same serializer (parsed specs carry extra detail).
    spec, subs = engine.serializer.load_specs(engine.serializer.dump_specs(process.spec, process.subprocess_specs))
    return spec_changes(engine, current, spec, subs, process.files, process.version_hash)


def version_changes(engine: Any, old: ProcessVersion, new: ProcessVersion) -> VersionDiff:
    """From one deployed version to another: elements, forms and timers only."""
    loaded = engine.load_version(new)
    return spec_changes(engine, old, loaded.spec, loaded.subprocess_specs, new.files or {}, new.version_hash)


def compare_versions(engine: Any, session: Session, old: ProcessVersion, new: ProcessVersion,
                     check_at_most: int | None = None) -> Comparison:
    """From one deployed version to another, with the first instances on the old one checked for a move."""
    diff = version_changes(engine, old, new)
    waiting = sorted(running_on(session, old.id))
    check_at_most = CHECK_AT_MOST if check_at_most is None else check_at_most
    for instance_id in waiting[:check_at_most]:
        check = plan_migration(engine, instance_id, new.id)
        if check.allowed:
            diff.can_migrate.append(instance_id)
        else:
            diff.cannot_migrate[instance_id] = check.problems
    return Comparison(diff, max(0, len(waiting) - check_at_most))
