"""Deployed process versions: storing them, restoring their parsed specs (cached), and the workflows saved with them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import NotFound
from engine.library.registry import ProcessRegistry
from engine.runtime.command_reads import CURRENT_VERSION
from engine.runtime.messages import accepts
from engine.runtime.serializer import StateSerializer
from engine.statutory.clock import Clock, active_clock
from engine.store.models import AuditEvent, HumanTask, ProcessInstance, ProcessVersion, User


@dataclass
class LoadedVersion:
    version_id: int
    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, dict[str, Any]]
    version_hash: str = ""


class ProcessVersions:
    """Mixed into WorkflowEngine (engine/runtime/workflow_engine.py), which sets these attributes up."""

    session_factory: sessionmaker[Session]
    clock: Clock
    serializer: StateSerializer
    script_engine: Any
    _versions: dict[int, LoadedVersion]

    def deploy(self, registry: ProcessRegistry, actor: User | None = None) -> list[ProcessVersion]:
        """Stores every process whose files changed as a new current version; unchanged ones are left alone."""
        created: list[ProcessVersion] = []
        with self.session_factory() as session:
            now = self.clock.now()
            for process in registry.processes.values():
                existing = session.scalars(
                    select(ProcessVersion).where(ProcessVersion.process_id == process.process_id,
                                                 ProcessVersion.version_hash == process.version_hash)
                ).first()
                if existing is not None:
                    if not existing.is_current:
                        self._make_current(session, existing)
                    continue
                version = ProcessVersion(
                    process_id=process.process_id, name=process.name, version_hash=process.version_hash,
                    files=process.files, spec_json=self.serializer.dump_specs(process.spec, process.subprocess_specs),
                    deployed_at=now, deployed_by_id=actor.id if actor else None, is_current=False,
                )
                session.add(version)
                session.flush()
                self._make_current(session, version)
                session.add(AuditEvent(at=now, actor_id=actor.id if actor else None, action="deployed",
                                       summary=f"Deployed {process.process_id} version {version.short_hash}",
                                       detail={"process_id": process.process_id, "hash": process.version_hash}))
                created.append(version)
            session.commit()
        return created

    @staticmethod
    def _make_current(session: Session, version: ProcessVersion) -> None:
        for other in session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == version.process_id,
                                                                  ProcessVersion.is_current.is_(True))):
            other.is_current = False
        version.is_current = True

    def current_version(self, session: Session, process_id: str) -> ProcessVersion:
        version = session.scalars(
            select(ProcessVersion).where(ProcessVersion.process_id == process_id, ProcessVersion.is_current.is_(True))
        ).first()
        if version is None:
            raise NotFound(f"The route {process_id!r} is not deployed")
        return version

    def load_version(self, version: ProcessVersion) -> LoadedVersion:
        """The parsed specs of a version, restored once and cached (specs are safely shared between instances)."""
        loaded = self._versions.get(version.id)
        if loaded is None or loaded.version_hash != version.version_hash:
            spec, subs = self.serializer.load_specs(version.spec_json)
            forms = {name[len("forms/"):]: json.loads(text) for name, text in version.files.items()
                     if name.startswith("forms/")}
            loaded = self._versions[version.id] = LoadedVersion(version.id, version.process_id, spec, subs, forms,
                                                                version.version_hash)
        return loaded

    def version_by_id(self, session: Session, version_id: int) -> LoadedVersion:
        """The parsed specs of a version by its id, without reading its row (files and specs) again once cached.

        A version's row is written once by a committed deploy and never changed or deleted, so its id names the
        same specs in every process: nothing here can go stale (an instance moved to another version has another
        ``process_version_id``).
        """
        loaded = self._versions.get(version_id)
        if loaded is not None:
            return loaded
        version = session.get(ProcessVersion, version_id)
        if version is None:
            raise NotFound("No such process version")
        return self.load_version(version)

    def current_loaded_version(self, session: Session, process_id: str) -> tuple[LoadedVersion, str | None, str]:
        """The current version of a route, parsed: (loaded, name, version hash), reading only the row's small
        columns once the version is cached."""
        row = session.execute(CURRENT_VERSION, {"process_id": process_id}).first()
        if row is None:
            raise NotFound(f"The route {process_id!r} is not deployed")
        loaded = self._versions.get(row.id)
        if loaded is None or loaded.version_hash != row.version_hash:
            version = session.get(ProcessVersion, row.id)
            assert version is not None
            loaded = self.load_version(version)
        return loaded, row.name, row.version_hash

    def form_schema(self, session: Session, task: HumanTask,
                    instance: ProcessInstance | None = None) -> dict[str, Any] | None:
        """The task's form (JSON Schema) from the version its instance runs on; pass the instance when it is
        already loaded."""
        if not task.form:
            return None
        if instance is None:
            version_id = session.scalar(select(ProcessInstance.process_version_id)
                                        .where(ProcessInstance.id == task.instance_id))
            assert version_id is not None
        else:
            version_id = instance.process_version_id
        return self.version_by_id(session, version_id).forms.get(task.form)

    def load_workflow(self, instance: ProcessInstance) -> BpmnWorkflow:
        # An instance in a session is restored with its version by id (cached); anything else (a detached row, or
        # a stand-in holding a version and a state, as the stored-state repair makes) by its version object.
        state = inspect(instance, raiseerr=False)
        session = state.session if state is not None else None
        loaded = self.version_by_id(session, instance.process_version_id) if session is not None \
            else self.load_version(instance.version)
        wf = self.serializer.loads(instance.state, loaded.spec, loaded.subprocess_specs)
        wf.script_engine = self.script_engine  # the script engine is not part of the serialized state
        return wf

    def _waits_for(self, instance_id: int, event: BpmnEvent) -> bool:
        with self.session_factory() as session:
            instance = session.get(ProcessInstance, instance_id)
            if instance is None:
                return False
            with active_clock(self.clock):
                wf = self.load_workflow(instance)
            return accepts(wf, event)

    def _process_started_by(self, session: Session, message_name: str) -> str | None:
        for version in session.scalars(select(ProcessVersion).where(ProcessVersion.is_current.is_(True))):
            loaded = self.load_version(version)
            for ts in loaded.spec.task_specs.values():
                definition = getattr(ts, "event_definition", None)
                if type(ts).__name__ == "StartEvent" and isinstance(definition, MessageEventDefinition) \
                        and definition.name == message_name:
                    return version.process_id
        return None
