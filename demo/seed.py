"""Demo data: two local authorities, a health body, settings of every type, a mediation service, users for every
role and a few families with cases, then each route's demo cases and the finished work of the last eighteen months.
Used by the set-up command so a new user can sign in as anyone and look around.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from demo.assessment import seed_needs_assessment, seed_plan_drafting
from demo.children import describe_children
from demo.driver import DEMO_PASSWORD, DemoContext, Seeder
from demo.history import seed_history
from demo.local_offer import seed_local_offer
from demo.reviews import seed_admin_cases, seed_reviews
from demo.sen_support import seed_sen_support
from demo.transfer import seed_disagreements, seed_plan_transfer
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import CaseParty, Membership, Organisation, ProcessVersion, User

LAS = [("Northshire County Council", "NSH", "northshire"), ("Southborough Borough Council", "SBH", "southborough")]

SETTINGS = [
    # name, setting type, maintaining LA code
    ("Elm Park Primary School", "maintained_school", "NSH"),
    ("Riverside Nursery School", "maintained_nursery", "NSH"),
    ("Oakwood Academy", "academy", "NSH"),
    ("Hilltop Free School", "free_school", "NSH"),
    ("Northshire College", "fe_college", "NSH"),
    ("St Anne's Sixth Form College", "sixth_form_college", "NSH"),
    ("Meadowbank School", "non_maintained_special", "NSH"),
    ("Brook House School", "independent_s41", "NSH"),
    ("Southborough Primary School", "maintained_school", "SBH"),
    ("Southborough High School", "academy", "SBH"),
]

LA_STAFF = [
    (Role.CASEWORKER, "caseworker", "Casey Walker"),
    (Role.MANAGER, "manager", "Morgan Price"),
    (Role.EDUCATIONAL_PSYCHOLOGIST, "ep", "Dr Eleanor Park"),
    (Role.SOCIAL_CARE, "socialcare", "Sunita Cole"),
    (Role.ADMIN, "admin", "Ade Mills"),
    (Role.PROCESS_OWNER, "processowner", "Priya Owens"),
]

FAMILIES = [
    # parent email, parent name, relationship, child first, last, date of birth, LA code, setting
    ("parent.taylor@example.com", "Jo Taylor", "mother", "Alex", "Taylor", "2017-05-14", "NSH", "Elm Park Primary School"),
    ("parent.okafor@example.com", "Chidi Okafor", "father", "Sam", "Okafor", "2013-10-02", "NSH", "Oakwood Academy"),
    ("jordan.patel@example.com", "Jordan Patel", "young person", "Jordan", "Patel", "2009-01-20", "NSH",
     "Northshire College"),
    ("parent.evans@example.com", "Rhian Evans", "mother", "Mia", "Evans", "2019-03-08", "SBH",
     "Southborough Primary School"),
]

# The route seeders, in the order they run: the cases in progress, then the finished work of the last eighteen months;
# last, what the SEN2 return needs of every demo child that the routes do not ask for.
SEEDERS: list[Seeder] = [seed_plan_drafting, seed_needs_assessment, seed_plan_transfer, seed_disagreements,
                         seed_reviews, seed_admin_cases, seed_sen_support, seed_history, describe_children,
                         seed_local_offer]


def already_seeded(session: Session) -> bool:
    return session.scalar(select(Organisation.id).where(Organisation.code == "NSH")) is not None


def seed(engine: WorkflowEngine) -> DemoContext:
    """Creates the demo organisations, users and cases, then runs the route seeders (SEEDERS)."""
    clock = engine.clock
    ctx = DemoContext()
    with engine.session_factory() as session:
        if already_seeded(session):
            raise RuntimeError("The demo data is already there")
        for name, code, domain in LAS:
            la = create_organisation(session, name, "local_authority", clock, code=code, email=f"send@{domain}.example")
            ctx.organisations[code] = la
            for role, local, person in LA_STAFF:
                email = f"{local}@{domain}.example"
                ctx.users[email] = create_user(session, email, person if code == "NSH" else f"{person} (SBH)",
                                               DEMO_PASSWORD, clock, [(la, role)])
                ctx.credentials.append((email, role.label, name))
        icb = create_organisation(session, "Northshire and Southborough Integrated Care Board", "health_body", clock,
                                  code="ICB")
        ctx.organisations["ICB"] = icb
        med = create_organisation(session, "Northshire Mediation Service", "mediation_service", clock, code="MED")
        ctx.organisations["MED"] = med
        for name, setting_type, la_code in SETTINGS:
            ctx.organisations[name] = create_organisation(
                session, name, "setting", clock, setting_type=setting_type,
                maintaining_la_id=ctx.organisations[la_code].id,
                code=name.split()[0].upper()[:6] + "-" + setting_type[:4].upper())
        for email, person, org, role in [
            ("dco@icb.example", "Dr Harriet Ng (designated clinical officer)", icb, Role.HEALTH),
            ("adviser@mediation.example", "Mo Adeyemi (mediation adviser)", med, Role.MEDIATION),
            ("senco@elmpark.example", "Sam Green (SENCO)", ctx.organisations["Elm Park Primary School"], Role.SCHOOL),
            ("senco@oakwood.example", "Lee Shah (SENCO)", ctx.organisations["Oakwood Academy"], Role.SCHOOL),
            ("senco@northshirecollege.example", "Ruth Bell (additional learning support)",
             ctx.organisations["Northshire College"], Role.SCHOOL),
            ("senco@southboroughprimary.example", "Tom Reid (SENCO)",
             ctx.organisations["Southborough Primary School"], Role.SCHOOL),
        ]:
            ctx.users[email] = create_user(session, email, person, DEMO_PASSWORD, clock, [(org, role)])
            ctx.credentials.append((email, role.label, org.name))
        for email, person, relation, first, last, dob, la_code, setting in FAMILIES:
            parent = create_user(session, email, person, DEMO_PASSWORD, clock, [(None, Role.FAMILY)])
            ctx.users[email] = parent
            case = engine.open_case(session, ctx.organisations[la_code].id, first, last, dob)
            for role, org in (("health_body", icb), ("setting", ctx.organisations[setting]), ("mediation_service", med)):
                session.add(CaseParty(case_id=case.id, role=role, organisation_id=org.id))
            session.add(CaseParty(case_id=case.id, role="family", user_id=parent.id, relationship_to_child=relation))
            ctx.cases[f"{first} {last}"] = case.id
            ctx.credentials.append((email, Role.FAMILY.label, f"{first} {last}'s family"))
        session.commit()
    seed_routes(engine, ctx)
    return ctx


def seed_routes(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Runs each seeder whose route is deployed (a seeder without a ``process_id`` always runs)."""
    with engine.session_factory() as session:
        deployed = set(session.scalars(select(ProcessVersion.process_id).where(ProcessVersion.is_current.is_(True))))
    for seeder in SEEDERS:
        needs = getattr(seeder, "process_id", None)
        if needs is None or needs in deployed:
            seeder(engine, ctx)


def credentials_from_db(session_factory: object) -> list[tuple[str, str, str]]:
    """The demo users' sign-in details, read back when the demo data was loaded by an earlier run."""
    rows: list[tuple[str, str, str]] = []
    with session_factory() as session:  # type: ignore[operator]
        for user in session.scalars(select(User).where(User.email.like("%.example") | User.email.like("%@example.com"))
                                    .order_by(User.id)):
            for m in session.scalars(select(Membership).where(Membership.user_id == user.id)):
                where = m.organisation.name if m.organisation else "family"
                rows.append((user.email, Role(m.role).label, where))
    return rows
