"""An organisation's identity provider for staff single sign-on (engine/people/sso.py), on the models' metadata."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.store.models import Base, Organisation


class IdentityProvider(Base):
    """The OpenID Connect provider an organisation's staff sign in with: at most one per organisation.

    The client secret is kept only encrypted (``client_secret_encrypted``, a Fernet token under a key derived from the
    app's secret key, engine/people/sso_secrets.py): a copy of the database alone does not give it away."""

    __tablename__ = "identity_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(300))
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    # Shown on the sign-in page ("Sign in with …"); the organisation's name when empty.
    display_name: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    organisation: Mapped[Organisation] = relationship()
