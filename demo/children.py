"""The demo children's details the SEN2 return needs and the routes do not ask for (sex, ethnicity, postcode, UPN),
recorded on every demo case after the route seeders have run, so that the demo's SEN2 export has records to show.

Each is recorded through ``engine.intake.child_details`` as a caseworker does on the case's "Child's details" page,
dated when the case was opened. Sex follows the demo's first names; ethnicity takes the DfE's codes in turn (no
child's is guessed from a name); postcodes and UPNs are made up (the UPNs use local authority numbers 990 and 991,
which no English authority has, each with its proper check letter).
"""

from __future__ import annotations

from sqlalchemy import select

from demo.driver import DemoContext
from engine.intake.child_details import update_child_details, upn_check_letter
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory import calendar
from engine.store.models import Case, Organisation

FEMALE_NAMES = {"Mia", "Ava", "Isla", "Ruby", "Amara", "Maya", "Grace", "Chloe", "Zara", "Sophie", "Poppy", "Evie",
                "Ivy", "Lily", "Freya", "Daisy", "Sofia", "Isabella", "Emily", "Rosie", "Ella", "Amelia", "Olivia",
                "Holly", "Lucy", "Erin"}
UNKNOWN_NAMES = {"Jordan"}  # the young person has not said: the DfE's "not known"
# Taken in turn, case by case; NOBT ("not yet obtained") shows that a record is complete before the family is asked.
ETHNICITIES = ("WBRI", "AIND", "WBRI", "BAFR", "WOTH", "WBRI", "APKN", "MWBC", "WBRI", "CHNE", "WIRI", "BCRB",
               "WBRI", "MWAS", "ABAN", "NOBT")
# A made-up authority number and postcode area per demo authority.
AUTHORITIES = {"NSH": ("990", "NS", "Northtown"), "SBH": ("991", "SB", "Southborough")}
CASEWORKERS = {"NSH": "caseworker@northshire.example", "SBH": "caseworker@southborough.example"}
STREETS = ("Mill Lane", "Orchard Close", "Station Road", "Brook Street", "Church Walk", "Park Avenue")


def demo_upn(la_number: str, case_id: int, year: int) -> str:
    """A permanent UPN: the authority's number, an establishment number, the year's last two digits and a serial
    (the case id), with the check letter worked out."""
    rest = f"{la_number}{2000 + case_id // 1000:04d}{year % 100:02d}{case_id % 1000:03d}"
    letter = upn_check_letter("A" + rest)
    assert letter is not None
    return letter + rest


def describe_children(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Records what each demo case is missing of the child's sex, ethnicity, address, postcode and UPN."""
    today = calendar.to_london_date(engine.clock.now())
    with engine.session_factory() as session:
        codes = {la_id: code for la_id, code in session.execute(
            select(Organisation.id, Organisation.code).where(Organisation.kind == "local_authority"))}
        for n, case in enumerate(session.scalars(select(Case).order_by(Case.id))):
            code = codes.get(case.la_id) or ""
            if code not in AUTHORITIES:
                continue
            la_number, area, town = AUTHORITIES[code]
            district = case.id % 9 + 1
            born = case.date_of_birth
            sex = "F" if case.child_first_name in FEMALE_NAMES else \
                "U" if case.child_first_name in UNKNOWN_NAMES else "M"
            raw = {"first_name": case.child_first_name, "last_name": case.child_last_name,
                   "date_of_birth": born.isoformat() if born else "",
                   "address": case.address or f"{case.id % 90 + 2} {STREETS[case.id % len(STREETS)]}, {town}",
                   "postcode": case.postcode or f"{area}{district} {district}{'ABDEFGHJLN'[case.id % 10]}"
                                                f"{'PQRSTUWXYZ'[n % 10]}",
                   "upn": case.upn or demo_upn(la_number, case.id, (born.year + 4) if born else today.year),
                   "sex": case.sex or sex, "ethnicity": case.ethnicity or ETHNICITIES[n % len(ETHNICITIES)]}
            actor = ctx.users.get(CASEWORKERS[code])
            update_child_details(session, case, raw, actor, case.created_at, today)
        session.commit()


__all__ = ["describe_children", "demo_upn"]
