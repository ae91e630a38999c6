"""What an upload would change in a deployed route, before it is deployed: elements added, removed and changed,
forms and timers changed (the same comparison as engine/version_diff.py, for a version that is not stored yet).

Which running instances could move is only known once the new version exists: the comparison of two deployed
versions shows it.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff

from engine.models import ProcessVersion
from engine.registry import ParsedProcess, describe
from engine.version_diff import VersionDiff


def _label(spec: Any) -> str:
    return f"{spec.bpmn_name or spec.bpmn_id} [{spec.bpmn_id}]"


def upload_changes(engine: Any, current: ProcessVersion, process: ParsedProcess) -> VersionDiff:
    result = VersionDiff(current.short_hash, process.version_hash[:10])
    a = engine.load_version(current)
    # Compared as stored, so that both sides went through the same serializer (parsed specs carry extra detail).
    spec, subs = engine.serializer.load_specs(engine.serializer.dump_specs(process.spec, process.subprocess_specs))
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
    old_forms = {k[6:]: v for k, v in (current.files or {}).items() if k.startswith("forms/")}
    new_forms = {k[6:]: v for k, v in process.files.items() if k.startswith("forms/")}
    result.forms_changed = sorted(k for k in old_forms.keys() & new_forms.keys() if old_forms[k] != new_forms[k])
    result.forms_added = sorted(new_forms.keys() - old_forms.keys())
    result.forms_removed = sorted(old_forms.keys() - new_forms.keys())
    old_timers = {t.bpmn_id: t.expression for t in describe(a.spec, a.subprocess_specs)[1]}
    new_timers = {t.bpmn_id: t.expression for t in describe(spec, subs)[1]}
    for timer_id in sorted(old_timers.keys() | new_timers.keys()):
        if old_timers.get(timer_id) != new_timers.get(timer_id):
            result.timers_changed[timer_id] = (old_timers.get(timer_id), new_timers.get(timer_id))
    return result
