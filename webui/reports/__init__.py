"""Statutory reports: timeliness, work in progress, the SEN2 export (issue 8)."""
