"""The ``ehcflow`` command: each module adds its commands to the group in ``webui.cli.group``."""

from __future__ import annotations

from webui.cli import (  # noqa: F401 - each registers its commands on the group
    backup,
    cases,
    database,
    exports,
    imports,
    instances,
    organisations,
    production,
    reports,
    routes,
    serve,
    setup,
    workflows,
)
from webui.cli.group import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
