"""The Local Offer's pages: the public directory, fixed pages, "You said, we did" and the comment form (no sign-in),
the LA's editor (entries, fixed pages, moderation, the review list, providers' changes) and the providers' pages."""

from __future__ import annotations

from webui.local_offer import changes, editor, provider, public  # noqa: F401 - each registers its views on the blueprint
from webui.local_offer.blueprint import bp

__all__ = ["bp"]
