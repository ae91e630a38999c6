"""Deployed process versions: storing them, restoring their parsed specs (cached), and the workflows saved with them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import NotFound
from engine.library.registry import ProcessRegistry
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
        if loaded is None:
            spec, subs = self.serializer.load_specs(version.spec_json)
            forms = {name[len("forms/"):]: json.loads(text) for name, text in version.files.items()
                     if name.startswith("forms/")}
            loaded = self._versions[version.id] = LoadedVersion(version.id, version.process_id, spec, subs, forms)
        return loaded

    def form_schema(self, session: Session, task: HumanTask) -> dict[str, Any] | None:
        if not task.form:
            return None
        instance = session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        return self.load_version(instance.version).forms.get(task.form)

    def load_workflow(self, instance: ProcessInstance) -> BpmnWorkflow:
        loaded = self.load_version(instance.version)
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
