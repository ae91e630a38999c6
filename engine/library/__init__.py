"""The routes as files: loading, checking (lint) and versioning BPMN files and forms, validating submitted forms,
and the sandbox and functions their scripts run with.

May use: ``engine.people``, ``engine.store``, ``engine.statutory``, ``engine.errors``."""
