"""The process owners' work on routes: deployed versions, uploaded changes and their checks, differences between
versions, scenario runs.

May use: ``engine.admin`` and everything below it."""
