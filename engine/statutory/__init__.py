"""The statutory rules of time: the calendar (weeks, months, working days, bank holidays) and the one clock.

Pure: uses nothing else in the engine."""
