"""A demo Local Offer for each demo authority: an entry for each of its schools and colleges (pointing at the same
setting records plan drafting names), three services in every category the Code of Practice lists (4.30-4.62), a few
entries left unchecked for over a year (so the review list has work), and families' comments, most published with the
council's response and action ("You said, we did") over two years, one waiting for moderation and one rejected.
The health services are provided by the demo ICB, whose designated clinical officer has proposed a change to one of
them for the council to review; the parent carer groups by a charity with an account (an organisation of kind
``voluntary_provider``, ``volunteer@shiresparentcarers.example``, role Local Offer provider), which has proposed a
change too. Each change waits on its review route (workflows/local_offer_review.bpmn). Each council has a Local
Offer editor (``localoffer@<council>.example``).

Everything is saved through ``engine.local_offer`` as the council's editor would save it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from demo.driver import DEMO_PASSWORD, DemoContext
from engine.local_offer import comments, entries, proposals, review_route
from engine.local_offer.categories import CATEGORIES
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import Organisation, ProcessVersion

AREAS = {"NSH": ("Northtown", "Ashby", "Fellside", "Outside the county"),
         "SBH": ("Southborough", "Riverside", "Eastgate", "Outside the borough")}
SETTING_CATEGORY = {"maintained_nursery": "early_years", "early_years": "early_years", "academy": "secondary",
                    "fe_college": "post_16", "sixth_form_college": "post_16",
                    "non_maintained_special": "special_school", "independent_s41": "s41_institutions"}
C, L, S, P = "communication_interaction", "cognition_learning", "semh", "sensory_physical"

# category -> three services: (title, what it offers, needs, youngest, oldest, cost)
SERVICES: dict[str, list[tuple[str, str, list[str], int, int, str]]] = {
    "early_years": [
        ("Early years inclusion team",
         "Visits to nurseries and childminders to help them include children with SEND.",
         [], 0, 5, "Free"),
        ("Portage home visiting",
         "Weekly home visits to help parents play and learn with their young child.",
         [L, C], 0, 4, "Free"),
        ("Funded places for two-year-olds",
         "15 hours a week of free early education for eligible two-year-olds.",
         [], 2, 2, "Free"),
    ],
    "primary": [
        ("Primary outreach service",
         "Specialist teachers advise primary schools on autism and learning needs.",
         [C, L], 4, 11, "Free to schools"),
        ("Enhanced resource provision for speech and language",
         "Places in a mainstream primary with a specialist base.",
         [C], 4, 11, "Free"),
        ("Reading recovery programme", "One-to-one reading support in primary schools.", [L], 5, 8, "Free"),
    ],
    "secondary": [
        ("Secondary inclusion hub", "Short placements and outreach for pupils at risk of exclusion.", [S], 11, 16, "Free"),
        ("Hearing impairment base",
         "A resourced base in a mainstream secondary school for deaf pupils.",
         [P], 11, 16, "Free"),
        ("Transition to secondary school programme",
         "Summer sessions to help pupils with SEND get ready for year 7.",
         [], 10, 12, "Free"),
    ],
    "special_school": [
        ("Specialist autism provision",
         "Small classes for autistic pupils who need a specialist setting.",
         [C], 4, 19, "Free with an EHC plan"),
        ("Complex needs school",
         "A special school for pupils with severe and profound learning difficulties.",
         [L, P], 2, 19, "Free with an EHC plan"),
        ("Alternative provision academy",
         "Education for pupils who cannot attend school because of health or behaviour.",
         [S], 5, 16, "Free"),
    ],
    "post_16": [
        ("Foundation learning courses",
         "Courses in independence, English and maths for learners with SEND.",
         [L], 16, 25, "Free"),
        ("Sixth form learning support",
         "Learning support assistants and exam arrangements in sixth forms.",
         [], 16, 19, "Free"),
        ("Specialist college placements",
         "Advice on residential and specialist college places.",
         [L, P], 16, 25, "Free with an EHC plan"),
    ],
    "s41_institutions": [
        ("Approved independent special schools list",
         "Where to find the schools approved under section 41.",
         [], 5, 19, "Free"),
        ("Independent specialist colleges list", "Colleges for young people with complex needs.", [L, P], 16, 25, "Free"),
        ("Residential special school placements",
         "How residential places are decided and funded.",
         [], 5, 19, "Free with an EHC plan"),
    ],
    "apprenticeships": [
        ("Supported internships",
         "A year of work placements with a job coach and study for young people with an EHC plan.",
         [], 16, 24, "Free"),
        ("Access to Work",
         "Help from the Department for Work and Pensions with the extra costs of working with a disability.",
         [], 16, 25, "Free"),
        ("Traineeships with job coaching", "Work preparation and placements with support.", [], 16, 24, "Free"),
    ],
    "health": [
        ("Speech and language therapy",
         "Assessment and therapy for children with speech, language and communication needs.",
         [C], 0, 18, "Free (NHS)"),
        ("Occupational therapy", "Help with motor skills, sensory needs and equipment.", [P], 0, 18, "Free (NHS)"),
        ("Child and adolescent mental health service (CAMHS)",
         "Assessment and treatment for children's mental health.",
         [S], 0, 18, "Free (NHS)"),
    ],
    "social_care": [
        ("Children with disabilities team",
         "Social work assessments and support for disabled children and their families.",
         [], 0, 18, "Free"),
        ("Transition to adult social care",
         "Planning with young people from 14 for the move to adult services.",
         [], 14, 25, "Free"),
        ("Direct payments", "Money in place of services, so families can arrange their own support.", [], 0, 25, "Free"),
    ],
    "short_breaks": [
        ("Holiday play schemes", "Supported play schemes in the school holidays.", [], 5, 17, "Small charge"),
        ("Overnight short breaks",
         "Overnight stays in a short break home for children with complex needs.",
         [L, P], 5, 17, "Free, after an assessment"),
        ("Saturday youth club", "A club for disabled young people on Saturday afternoons.", [], 11, 19, "£3 a session"),
    ],
    "parent_carer_support": [
        ("Parent carer forum",
         "A group of parents who work with the council and health to improve services.",
         [], 0, 25, "Free"),
        ("Parent carer needs assessment", "An assessment of what support a parent carer needs.", [], 0, 25, "Free"),
        ("Autism parent support group",
         "Monthly meetings and workshops for parents of autistic children.",
         [C], 0, 18, "Free"),
    ],
    "childcare": [
        ("Inclusive childminders network",
         "Childminders with training in supporting children with SEND.",
         [], 0, 11, "Usual childcare fees"),
        ("Disability access fund", "Funding for nurseries to make changes for a disabled child.", [], 3, 4, "Free"),
        ("After-school club support",
         "Extra staff so disabled children can attend after-school clubs.",
         [], 5, 14, "Usual club fees"),
    ],
    "leisure": [
        ("Inclusive swimming sessions", "Quieter swimming sessions with trained staff.", [P, C], 0, 25, "£2"),
        ("Sensory cinema screenings", "Films with lights up and sound down.", [C, P], 3, 25, "Usual ticket price"),
        ("Adaptive cycling club", "Adapted bikes and trikes for all abilities.", [P], 4, 25, "£1 a session"),
    ],
    "transport": [
        ("Home to school travel assistance",
         "Free travel for eligible children, including those with an EHC plan.",
         [], 4, 16, "Free if eligible"),
        ("Post-16 transport policy",
         "How the council helps young people aged 16 to 25 travel to education.",
         [], 16, 25, "A contribution may be asked"),
        ("Independent travel training", "One-to-one training to travel safely on buses and trains.", [L], 11, 25, "Free"),
    ],
    "preparing_for_adulthood": [
        ("Preparing for adulthood team",
         "Help with employment, independent living, friendships and health from year 9.",
         [], 14, 25, "Free"),
        ("Supported living",
         "Homes with support for young adults with learning disabilities.",
         [L], 18, 25, "Depends on the support"),
        ("Community participation programme",
         "Volunteering and community groups for young people with SEND.",
         [], 16, 25, "Free"),
    ],
    "information_advice": [
        ("Family information service",
         "Information about childcare, activities and support for families.",
         [], 0, 25, "Free"),
        ("Adult care information and advice",
         "Information about care and support for adults (Care Act 2014).",
         [], 18, 25, "Free"),
        ("Young people's SEND advice line", "Advice for young people in their own words.", [], 16, 25, "Free"),
    ],
    "sendiass": [
        ("SEND information, advice and support service (SENDIASS)",
         "Free, impartial and confidential advice about SEND law, EHC plans and appeals.",
         [], 0, 25, "Free"),
        ("SENDIASS independent supporters", "Help for families through an EHC needs assessment.", [], 0, 25, "Free"),
        ("SENDIASS drop-in sessions", "Monthly drop-in sessions at libraries.", [], 0, 25, "Free"),
    ],
    "disagreement_resolution": [
        ("Mediation service", "Independent mediation about EHC needs assessments and plans.", [], 0, 25, "Free"),
        ("Disagreement resolution service",
         "Independent help to settle disagreements with the council, schools or health.",
         [], 0, 25, "Free"),
        ("Complaints about SEND services",
         "How to complain to the council and to the Local Government Ombudsman.",
         [], 0, 25, "Free"),
    ],
    "tribunal_rights": [
        ("Appealing to the SEND Tribunal",
         "Your right of appeal about assessments, plans and schools, and the time limits.",
         [], 0, 25, "Free"),
        ("National trial: health and social care recommendations",
         "The tribunal can make recommendations about health and social care.",
         [], 0, 25, "Free"),
        ("Tribunal support from SENDIASS", "Help to prepare an appeal.", [], 0, 25, "Free"),
    ],
    "accessibility_strategy": [
        ("Schools accessibility strategy",
         "How the council will make schools more accessible for disabled pupils.",
         [P], 2, 19, "Free"),
        ("Accessible information",
         "The Local Offer in easy read, large print and other languages on request.",
         [], 0, 25, "Free"),
        ("Getting the Local Offer without the internet",
         "Call the SEND team or visit a library to get this information on paper.",
         [], 0, 25, "Free"),
    ],
}

# (days ago, text, status, response, action)
# The charity with an account: it provides the parent carer groups in both councils, and has sent Northshire a change.
CHARITY = "Shires Parent Carers"
CHARITY_USER = "volunteer@shiresparentcarers.example"
CHARITY_ENTRIES = ("Parent carer forum", "Autism parent support group")
CHARITY_PROPOSES = "Autism parent support group"

COMMENTS = [
    (420, "It is hard to find out which after-school clubs can support my son.", "published",
     "Thank you. Many families told us the same.", "We have added every club with trained staff to the Local Offer."),
    (380, "The transport page should say when applications close.", "published",
     "You are right.", "The page now gives the closing date for each school year."),
    (60, "There is not enough short break provision in the school holidays.", "published",
     "We know demand is higher than the places we have.", "We are funding two more holiday schemes from the summer."),
    (20, "Please publish the speech and language therapy waiting times.", "published",
     "We agree that families should know how long they will wait.", "The NHS trust will publish them here each month."),
    (3, "Could you add sessions for teenagers at the swimming pool?", "pending", "", ""),
    (2, "Visit my website for cheap watches", "rejected", "", ""),
]


def _settings(session: Any, la_id: int) -> list[Organisation]:
    return list(session.scalars(select(Organisation).where(Organisation.kind == "setting",
                                                           Organisation.maintaining_la_id == la_id)
                                .order_by(Organisation.name)))


def _setting_category(org: Organisation) -> str:
    if org.setting_type in SETTING_CATEGORY:
        return SETTING_CATEGORY[org.setting_type]
    return "primary" if "Primary" in org.name or "Free" in org.name else "secondary"


def _charity(session: Any, ctx: DemoContext, clock: Any) -> tuple[Organisation, Any]:
    """The charity that runs the parent carer groups in both councils, with one member of staff who signs in."""
    charity = create_organisation(session, CHARITY, "voluntary_provider", clock, code="SPCN",
                                  email="hello@shiresparentcarers.example")
    ctx.organisations["SPCN"] = charity
    volunteer = create_user(session, CHARITY_USER, "Pat Lewis (Shires Parent Carers)", DEMO_PASSWORD, clock,
                            [(charity, Role.LOCAL_OFFER_PROVIDER)])
    ctx.users[CHARITY_USER] = volunteer
    ctx.credentials.append((CHARITY_USER, Role.LOCAL_OFFER_PROVIDER.label, CHARITY))
    return charity, volunteer


def _provider(category: str, title: str, icb: Organisation | None, charity: Organisation) -> str:
    if category == "health" and icb is not None:
        return str(icb.id)
    return str(charity.id) if title in CHARITY_ENTRIES else ""


def seed_local_offer(engine: WorkflowEngine, ctx: DemoContext) -> None:
    clock = engine.clock
    now, today = clock.now(), clock.today()
    icb = ctx.organisations.get("ICB")
    dco = ctx.users.get("dco@icb.example")
    with engine.session_factory() as session:
        charity, volunteer = _charity(session, ctx, clock)
        # Without the review route (a demo on a subset of routes), a change waits unreviewed: the route starts when
        # an editor first opens it.
        reviewed = session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_id == review_route.PROCESS_ID,
                                                                  ProcessVersion.is_current.is_(True))) is not None
        for code, areas in AREAS.items():
            la = ctx.organisations[code]
            domain = la.name.split()[0].lower()
            email = f"localoffer@{domain}.example"
            ctx.users[email] = create_user(session, email, f"Jo Price (Local Offer, {la.name})", DEMO_PASSWORD, clock,
                                           [(la, Role.LOCAL_OFFER_EDITOR)])
            ctx.credentials.append((email, Role.LOCAL_OFFER_EDITOR.label, la.name))
            n = 0
            for org in _settings(session, la.id):
                slug = org.name.lower().replace("'", "").replace(" ", "")
                category = _setting_category(org)
                ages = {"early_years": (2, 5), "post_16": (16, 25), "s41_institutions": (5, 19),
                        "special_school": (4, 19), "primary": (4, 11)}.get(category, (11, 18))
                entries.save_entry(session, la.id, {
                    "title": org.name, "category": category, "organisation_id": str(org.id), "needs": [],
                    "age_from": str(ages[0]), "age_to": str(ages[1]), "area": areas[n % 3],
                    "offers": f"{org.name} meets a wide range of needs; its SEN information report says how.",
                    "who_for": "Children and young people in its age range, with or without an EHC plan.",
                    "how_to_access": "Apply through the council's admissions; with an EHC plan, ask for the school "
                                     "to be named in section I.",
                    "contact_name": "SENCO", "contact_email": f"senco@{slug}.example", "website": f"https://{slug}.example",
                    "sen_report_url": f"https://{slug}.example/sen-information-report", "cost": "Free",
                    "status": "published"}, now, today, None)
                n += 1
            for category in CATEGORIES:
                for title, offers, needs, youngest, oldest, cost in SERVICES[category.code]:
                    n += 1
                    # Every seventh entry was last checked over a year ago, so the review list has work to show.
                    checked = today - timedelta(days=400 if n % 7 == 0 else n * 3)
                    row = entries.save_entry(session, la.id, {
                        "title": title, "category": category.code, "needs": needs, "age_from": str(youngest),
                        "age_to": str(oldest), "area": areas[n % len(areas)], "offers": offers,
                        "who_for": "Children and young people with special educational needs or disabilities "
                                   f"aged {youngest} to {oldest}, and their families.",
                        "eligibility": "Open to anyone" if cost.startswith("Free") else "Call to check",
                        "how_to_access": "Call or email to ask for a place, or ask your school's SENCO to refer you.",
                        "contact_name": f"{la.name.split()[0]} SEND team", "contact_email": f"send@{domain}.example",
                        "contact_phone": "0300 123 4567", "opening_hours": "Monday to Friday, 9am to 5pm",
                        "cost": cost, "website": f"https://{domain}.example/local-offer",
                        "status": "draft" if n == 5 else "published",
                        "provider_id": _provider(category.code, title, icb, charity)},
                        now, checked, None)
                    if icb is not None and category.code == "health" and title == SERVICES["health"][0][0]:
                        proposal = proposals.propose(session, row, icb.id, {
                            **proposals.entry_values(row), "opening_hours": "Monday to Friday, 8am to 6pm",
                            "offers": f"{offers} Drop-in sessions on Saturday mornings."}, now, dco.id if dco else None)
                        if reviewed:
                            review_route.start_review(engine, session, proposal, dco.id if dco else None)
                    if code == "NSH" and title == CHARITY_PROPOSES:
                        proposal = proposals.propose(session, row, charity.id, {
                            **proposals.entry_values(row), "opening_hours": "First Tuesday of the month, 7pm to 9pm",
                            "contact_email": "hello@shiresparentcarers.example"}, now, volunteer.id)
                        if reviewed:
                            review_route.start_review(engine, session, proposal, volunteer.id)
            manager = ctx.users.get(f"manager@{domain}.example")
            for days_ago, text, status, response, action in COMMENTS:
                when = now - timedelta(days=days_ago)
                row = comments.submit_comment(session, la.id, text, f"demo-{code}-{days_ago}", when, limit=100)
                if status != "pending":
                    comments.moderate(session, row, "publish" if status == "published" else "reject", text, response,
                                      action, when + timedelta(days=10), manager.id if manager else None)
        session.commit()


__all__ = ["seed_local_offer"]
