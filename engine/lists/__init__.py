"""Read-only queries the pages draw: task lists, case pages, the family's view. They read projections, never
workflow state.

May use: ``engine.people``, ``engine.store``, ``engine.statutory``, ``engine.errors``."""
