"""The admin console: monitoring and repairing process instances, and managing people and organisations.

Every page is for administrators only and shows only what belongs to the organisations they administer: another
organisation's instance, user or organisation is "not found", as everywhere else in the app.
"""

from __future__ import annotations

from webui.admin import (  # noqa: E402,F401  (register the views)
    actions,
    api_tokens,
    exports,
    home,
    identity_providers,
    import_plans,
    instances,
    organisations,
    users,
)
from webui.admin.common import bp

__all__ = ["bp"]
