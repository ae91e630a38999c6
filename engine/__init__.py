"""EHC Flow's engine: everything but the web. No Flask here.

Packages, lowest first (a package may use those below it, never those above; `lint-imports` checks it):

- ``statutory``: the statutory calendar and the injected clock (pure date rules, no database).
- ``store``: the database (models, sessions, migrations).
- ``people``: roles, who may see a case and act on a task, users and passwords.
- ``library``: the routes as files: parsing, checking and versioning BPMN and forms, the script sandbox.
- ``runtime``: the workflow engine's commands, projections, timers, the timer worker, deadlines, incidents.
- ``lists``: read-only queries the pages draw: task lists, case pages, the family's view.
- ``casework``: the work on a case around the routes: plans, reviews, transfers, documents, notices, messages.
- ``admin``, ``reports``: the admin console's reads and repairs; the statutory reports and the SEN2 return.
- ``authoring``: the process owners' work: deployments, uploads, differences between versions, scenarios.

``errors`` holds the errors every layer raises to its callers.
"""
