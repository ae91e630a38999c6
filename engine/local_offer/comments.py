"""Comments on the Local Offer (Code 4.27): anyone may send one; the LA moderates it, and publishes it with its
response and the action it will take, by year ("You said, we did").

Nothing asks who sent a comment. The throttle counts the comments sent from one connection in the last hour, kept in
the database (so every web process sees the same count): ``client_key`` is a keyed hash the web UI makes of the
connection, never the address itself. A comment is shown only once published, and the LA may take names or other
personal details out of its text when it publishes it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import EngineError, FormInvalid, NotFound
from engine.store.local_offer import LocalOfferComment

MIN_TEXT, MAX_TEXT, MAX_RESPONSE = 10, 2000, 5000
WINDOW = timedelta(hours=1)
STATUSES = ("pending", "published", "rejected")


class TooManyComments(EngineError):
    """This connection has sent as many comments as an hour allows."""


def recent_from(session: Session, client_key: str, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(LocalOfferComment).where(
        LocalOfferComment.client_key == client_key, LocalOfferComment.received_at > now - WINDOW)) or 0


def submit_comment(session: Session, la_id: int, text: str, client_key: str, now: datetime,
                   limit: int) -> LocalOfferComment:
    """Keeps a new comment, pending moderation. FormInvalid when the text is empty or too long, TooManyComments when
    the connection has sent ``limit`` in the last hour."""
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) < MIN_TEXT:
        raise FormInvalid({"text": f"Enter your comment (at least {MIN_TEXT} characters)"})
    if len(text) > MAX_TEXT:
        raise FormInvalid({"text": f"Your comment must be {MAX_TEXT} characters or fewer"})
    if recent_from(session, client_key, now) >= limit:
        raise TooManyComments("Too many comments from your connection: try again in an hour")
    row = LocalOfferComment(la_id=la_id, text=text, year=now.year, received_at=now, client_key=client_key,
                            status="pending", response="", action="")
    session.add(row)
    session.flush()
    return row


def comment_of(session: Session, la_id: int, comment_id: int) -> LocalOfferComment:
    row = session.get(LocalOfferComment, comment_id)
    if row is None or row.la_id != la_id:
        raise NotFound("No such comment")
    return row


def moderate(session: Session, comment: LocalOfferComment, decision: str, text: str, response: str, action: str,
             now: datetime, user_id: int | None) -> None:
    """Publishes the comment (as edited, with the LA's response and action) or rejects it; a published comment may
    be changed again, for example to add what was done."""
    errors: dict[str, str] = {}
    text, response, action = ((v or "").replace("\r\n", "\n").strip() for v in (text, response, action))
    if decision not in ("publish", "reject"):
        errors["decision"] = "Select whether to publish or reject the comment"
    if decision == "publish":
        if len(text) < MIN_TEXT or len(text) > MAX_TEXT:
            errors["text"] = f"Enter the comment as it will be published ({MIN_TEXT} to {MAX_TEXT} characters)"
        if not response:
            errors["response"] = "Enter the local authority's response"
        elif len(response) > MAX_RESPONSE:
            errors["response"] = f"Use {MAX_RESPONSE} characters or fewer"
        if len(action) > MAX_RESPONSE:
            errors["action"] = f"Use {MAX_RESPONSE} characters or fewer"
    if errors:
        raise FormInvalid(errors)
    comment.status = "published" if decision == "publish" else "rejected"
    if decision == "publish":
        comment.text, comment.response, comment.action = text, response, action
    comment.moderated_at, comment.moderated_by_id = now, user_id
    session.flush()


def comments_of(session: Session, la_id: int, status: str | None = None) -> list[LocalOfferComment]:
    query = select(LocalOfferComment).where(LocalOfferComment.la_id == la_id)
    if status in STATUSES:
        query = query.where(LocalOfferComment.status == status)
    return list(session.scalars(query.order_by(LocalOfferComment.received_at.desc(), LocalOfferComment.id.desc())))


def published_by_year(session: Session, la_id: int) -> dict[int, list[LocalOfferComment]]:
    """"You said, we did": the LA's published comments, newest year first, in the order they came in."""
    out: dict[int, list[LocalOfferComment]] = defaultdict(list)
    for row in session.scalars(select(LocalOfferComment).where(
            LocalOfferComment.la_id == la_id, LocalOfferComment.status == "published")
            .order_by(LocalOfferComment.received_at, LocalOfferComment.id)):
        out[row.year].append(row)
    return dict(sorted(out.items(), reverse=True))


__all__ = ["STATUSES", "TooManyComments", "comment_of", "comments_of", "moderate", "published_by_year",
           "recent_from", "submit_comment"]
