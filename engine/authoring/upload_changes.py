"""What changed between a deployed version of a route and another version of it, deployed or only uploaded: elements
added, removed and changed, forms and timers changed (as engine/authoring/version_diff.py), and which running instances could
move, checked for a limited number of them at a time so that the page stays quick on a route with many cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.admin.instance_migration import plan_migration, running_on
from engine.authoring.version_diff import VersionDiff, diff_specs
from engine.library.registry import ParsedProcess
from engine.store.models import ProcessVersion

CHECK_AT_MOST = 200


@dataclass
class Comparison:
    diff: VersionDiff
    not_checked: int = 0  # instances on the old version beyond CHECK_AT_MOST, checked once the first ones moved


def spec_changes(engine: Any, old: ProcessVersion, spec: Any, subs: dict[str, Any], files: dict[str, str],
                 new_hash: str) -> VersionDiff:
    """Elements, forms and timers that differ from the old version to the given specs and files."""
    return diff_specs(engine, old, spec, subs, files, new_hash[:10])


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
