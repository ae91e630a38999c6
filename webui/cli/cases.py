"""``ehcflow cases``: opening a case for a child (a request that came in outside EHC Flow) and listing cases."""

from __future__ import annotations

import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from sqlalchemy import func, or_, select

from engine.errors import EngineError, FormInvalid
from engine.intake.questions import parse_date
from engine.intake.registration import register_request
from engine.intake.requests import decide_by, record_request
from engine.store.models import Case, Organisation
from webui.cli.group import build_services, main

LONDON = ZoneInfo("Europe/London")


def _received(text: str | None, now: datetime) -> datetime | None:
    """A moment typed as ``YYYY-MM-DD HH:MM`` (London time) or ISO with an offset; ``None`` when not given."""
    if not text:
        return now
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise click.BadParameter("give the date and time as YYYY-MM-DD HH:MM (London time)",
                                 param_hint="--received") from None
    return moment.replace(tzinfo=LONDON) if moment.tzinfo is None else moment


def _fail(errors: dict[str, str]) -> None:
    for name, message in errors.items():
        click.echo(f"{name}: {message}", err=True)
    sys.exit(1)


@main.group()
def cases() -> None:
    """Children's cases: open one, list them."""


@cases.command("open")
@click.option("--la", "la_code", required=True, help="The responsible local authority's code, e.g. NSH.")
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option("--dob", "date_of_birth", required=True, help="Date of birth, YYYY-MM-DD.")
@click.option("--address", required=True)
@click.option("--postcode", required=True)
@click.option("--upn", default="", help="Unique pupil number, if a school gave it.")
@click.option("--setting", "setting_name", default="", help="The child's school, college or setting, if any.")
@click.option("--requester-type", type=click.Choice(["parent", "young_person", "setting", "other"]), required=True,
              help="Who asked for the assessment.")
@click.option("--requester-name", required=True)
@click.option("--requester-email", required=True)
@click.option("--relationship", default="", help="The requester's relationship to the child.")
@click.option("--channel", type=click.Choice(["email", "post", "phone", "in_person"]), default="email",
              show_default=True, help="How the request arrived.")
@click.option("--received", default=None,
              help="When the LA received it, YYYY-MM-DD HH:MM London time (default: now). Starts the statutory clock.")
@click.option("--views", default="", help="The parents' or young person's views, if given.")
@click.option("--support", "sen_support", required=True, help="The help tried so far (SEN support).")
def cases_open(la_code: str, received: str | None, channel: str, **answers: str) -> None:
    """Record a request for an EHC needs assessment, open the child's case and start the needs assessment.

    A child EHC Flow already knows (same LA and UPN, or name and date of birth) is refused: register the request
    on the existing case from the New requests page instead.
    """
    services = build_services()
    engine = services.engine
    now = engine.clock.now()
    moment = _received(received, now)
    raw = {
        "requester_type": answers["requester_type"], "requester_name": answers["requester_name"],
        "requester_email": answers["requester_email"],
        "relationship_to_child": answers["relationship"] or ("young person" if answers["requester_type"] ==
                                                              "young_person" else ""),
        "child_first_name": answers["first_name"], "child_last_name": answers["last_name"],
        "child_date_of_birth": answers["date_of_birth"], "child_address": answers["address"],
        "child_postcode": answers["postcode"], "child_upn": answers["upn"], "setting_name": answers["setting_name"],
        "parent_views": answers["views"] if answers["requester_type"] != "young_person" else "",
        "young_person_views": answers["views"] if answers["requester_type"] == "young_person" else "",
        "family_knows": "yes", "sen_support": answers["sen_support"], "urgent": "no", "consent_to_share": "yes",
    }
    with services.session_factory() as session:
        la = session.scalar(select(Organisation).where(Organisation.code == la_code,
                                                       Organisation.kind == "local_authority"))
        if la is None:
            _fail({"--la": f"no local authority with the code {la_code!r}"})
        assert la is not None
        dob = parse_date(raw["child_date_of_birth"])
        known = session.scalar(select(Case.reference).where(Case.la_id == la.id, or_(
            Case.upn == (raw["child_upn"].upper().replace(" ", "") or "-"),
            (func.lower(Case.child_last_name) == raw["child_last_name"].strip().lower())
            & (func.lower(Case.child_first_name) == raw["child_first_name"].strip().lower())
            & (Case.date_of_birth == dob))))
        if known:
            _fail({"child": f"EHC Flow already knows this child (case {known}): register the request on that case "
                            "from the New requests page"})
        try:
            row = record_request(session, la.id, raw, channel, moment, None, now)
        except FormInvalid as exc:
            _fail(exc.errors)
            raise
        session.commit()
        request_id, reference = row.id, row.reference
    try:
        case_id = register_request(engine, request_id, None)
    except EngineError as exc:
        raise click.ClickException(str(exc)) from exc
    with services.session_factory() as session:
        case = session.get(Case, case_id)
        assert case is not None and moment is not None
        click.echo(f"Opened case {case.reference} for {case.child_name} (request {reference}); the needs assessment "
                   f"has started. The LA must decide whether to assess by {decide_by(moment):%A %-d %B %Y}.")


@cases.command("list")
@click.option("--la", "la_code", default=None, help="Only this local authority's cases (its code).")
@click.option("--search", default="", help="Part of the child's name or the case reference.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
def cases_list(la_code: str | None, search: str, limit: int) -> None:
    """List cases: reference, child, date of birth, responsible LA, status."""
    services = build_services()
    with services.session_factory() as session:
        query = select(Case, Organisation.code).join(Organisation, Organisation.id == Case.la_id)
        if la_code:
            if session.scalar(select(Organisation.id).where(Organisation.code == la_code)) is None:
                _fail({"--la": f"no organisation with the code {la_code!r}"})
            query = query.where(Organisation.code == la_code)
        if search.strip():
            like = f"%{search.strip().lower()}%"
            query = query.where(or_(func.lower(Case.child_first_name + " " + Case.child_last_name).like(like),
                                    func.lower(Case.reference).like(like)))
        rows = session.execute(query.order_by(Case.id).limit(limit)).all()
        for case, code in rows:
            born = case.date_of_birth.isoformat() if case.date_of_birth else "-"
            click.echo(f"{case.reference:16} {case.child_name:32} {born:10}  {code or '-':6} {case.status}")
        click.echo(f"{len(rows)} case(s).", err=True)
