"""What one firing of due timers did, instance by instance, so that a pass can go on past conflicts and failures."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TimerPass:
    """``fired``: instances advanced; ``failed``: instances whose timers failed (each now failed, with an incident);
    ``conflicts``: instances another worker changed first; ``examined``: every instance picked."""

    fired: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)

    @property
    def examined(self) -> int:
        return len(self.fired) + len(self.failed) + len(self.conflicts)

    def add(self, other: TimerPass) -> None:
        self.fired += other.fired
        self.failed += other.failed
        self.conflicts += other.conflicts
