"""Errors the engine raises to its callers. Each message is written for the person who caused it."""

from __future__ import annotations


class EngineError(Exception):
    """Base class: the message is safe to show to the user."""


class NotFound(EngineError):
    pass


class NotAllowed(EngineError):
    pass


class TaskAlreadyCompleted(EngineError):
    pass


class ConcurrentUpdate(EngineError):
    """Someone else changed the same instance first; nothing of this command was saved."""


class InvalidState(EngineError):
    """The command makes no sense in the instance's current state (e.g. resuming a running instance)."""


class FormInvalid(EngineError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


class MessageNotDelivered(EngineError):
    pass


class InstanceFailed(EngineError):
    """A step of the process failed; the instance is as it was before the command and an incident is recorded."""

    def __init__(self, message: str, incident_id: int | None = None) -> None:
        self.incident_id = incident_id
        super().__init__(message)


class SettingInvalid(EngineError):
    """A setting from the environment has a value EHC Flow cannot run with; nothing was started or written."""
