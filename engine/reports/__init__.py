"""Statutory reports: timeliness, work in progress and the SEN2 return, read from the projections.

May use: ``engine.casework`` and everything below it."""
