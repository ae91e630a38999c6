"""Demo cases part-way through a transfer between authorities and at each stage of a disagreement (mediation,
tribunal appeal and order, complaint): workflows/plan_transfer.bpmn and friends."""

from __future__ import annotations

import logging

from demo.driver import DemoContext, Driver, give_plan
from engine.casework import documents, transfer
from engine.runtime.workflow_engine import WorkflowEngine


def _route_documents_known() -> bool:
    """Whether engine.casework.documents knows this module's notices (it loads the routes' own templates on demand)."""
    documents.load_route_documents()
    known = set(transfer.DOCUMENTS) <= set(documents.TEMPLATES)
    if not known:
        # Every step that sends a notice would fail: leave the demo without these cases rather than half of them.
        logging.getLogger(__name__).warning("transfer and disagreement demo skipped: engine.casework.documents does "
                                            "not know their notices")
    return known


def seed_plan_transfer(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Two families moving from Northshire to Southborough (both use EHC Flow):

    - Oliver Bennett: the move is in 3 weeks; Northshire has recorded it and prepared the transfer, and the case
      moves to Southborough at the start of the day of the move (Northshire's staff still see it until then).
    - Grace Lee: moved 2 weeks ago; the case is Southborough's, whose 6-week notice to the family is open, and the
      health body has told... itself (one ICB covers both areas in the demo, so the health body does not change).
    """
    if not _route_documents_known():
        return
    driver = Driver(engine, ctx)
    try:
        caseworker = driver.user("caseworker@northshire.example")
        sbh = ctx.organisations["SBH"]
        oliver = driver.new_case("NSH", "Oliver", "Bennett", f"{driver.today.year - 9}-04-22",
                                 "Elm Park Primary School", "laura.bennett@example.com", "Laura Bennett")
        give_plan(driver, oliver, "Elm Park Primary School", 300)
        driver.move(driver.day(3))
        engine.start(oliver, "plan_transfer", actor=caseworker)
        driver.do(oliver, "UT_record_move", {"move_date": driver.iso(-21), "aware_date": driver.iso(3),
                                             "new_la_id": sbh.id, "health_body_changes": "no",
                                             "new_address": "14 Harbour Row, Southborough",
                                             "notes_for_new_la": "Oliver has speech therapy on Tuesdays."},
                  caseworker, driver.day(3, 11))
        driver.do(oliver, "UT_prepare_transfer", {"plan_and_advice_checked": True,
                                                  "interim_arrangements": "Speech therapy continues by video until "
                                                                          "Southborough arranges it locally."},
                  caseworker, driver.day(1))

        grace = driver.new_case("NSH", "Grace", "Lee", f"{driver.today.year - 12}-10-09", "Oakwood Academy",
                                "parent.lee@example.com", "Mei Lee")
        give_plan(driver, grace, "Oakwood Academy", 200)
        driver.move(driver.day(30))
        engine.start(grace, "plan_transfer", actor=caseworker)
        driver.do(grace, "UT_record_move", {"move_date": driver.iso(14), "aware_date": driver.iso(30),
                                            "new_la_id": sbh.id, "health_body_changes": "no"},
                  caseworker, driver.day(30, 11))
        driver.do(grace, "UT_prepare_transfer", {"plan_and_advice_checked": True}, caseworker, driver.day(20))
        driver.move(driver.day(0, 9))  # the case moved 14 days ago, at the start of the day of the move
    finally:
        driver.restore()


seed_plan_transfer.process_id = "plan_transfer"  # type: ignore[attr-defined]


def seed_disagreements(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Northshire families at each stage of a disagreement:

    - Harry Wilson: a decision not to assess was sent 10 days ago; the mediation adviser waits to hear from them;
    - Sophie Turner: wants mediation; Northshire is arranging it (30 days from being told);
    - Jacob Hill: mediation held, certificate issued; the appeal window is open;
    - Amelia King: appealed; Northshire's response to the tribunal is due (30 tribunal working days);
    - Lucas Wright: the tribunal ordered the plan to be amended and made a health recommendation: the amended plan is
      due in 5 weeks and the health body's response too;
    - Chloe Baker: a complaint about children's social care, with an independent person, answer due in 28 days.
    """
    if not _route_documents_known():
        return
    driver = Driver(engine, ctx)
    try:
        caseworker = driver.user("caseworker@northshire.example")
        adviser = driver.user("adviser@mediation.example")
        social_care = driver.user("socialcare@northshire.example")
        contact = {"wants_mediation": "no"}

        def new(first: str, last: str, years: int) -> int:
            return driver.new_case("NSH", first, last, f"{driver.today.year - years}-01-15", "Elm Park Primary School",
                                   f"parent.{last.lower()}@example.com", f"Sam {last}")

        harry = new("Harry", "Wilson", 7)
        driver.tell(harry, "appealable_decision_notified", {"decision": "refuse_assess",
                                                            "notice_sent_on": driver.iso(10)}, driver.day(10))

        sophie = new("Sophie", "Turner", 8)
        driver.tell(sophie, "appealable_decision_notified", {"decision": "refuse_issue",
                                                             "notice_sent_on": driver.iso(40)}, driver.day(40))
        driver.do(sophie, "UT_adviser_contact", {"contacted_on": driver.iso(6), "wants_mediation": "yes",
                                                 "mediation_issues": "Whether Sophie needs an EHC plan",
                                                 "health_issues": "no", "social_care_issues": "no"},
                  adviser, driver.day(5))

        jacob = new("Jacob", "Hill", 10)
        driver.tell(jacob, "appealable_decision_notified", {"decision": "final_plan", "sections": ["B", "F"],
                                                            "notice_sent_on": driver.iso(50)}, driver.day(50))
        driver.do(jacob, "UT_adviser_contact", {"contacted_on": driver.iso(45), "wants_mediation": "yes",
                                                "mediation_issues": "The speech therapy in section F",
                                                "health_issues": "yes", "health_provision_sought": "Weekly therapy",
                                                "social_care_issues": "no"}, adviser, driver.day(45))
        driver.do(jacob, "UT_arrange_mediation", {"mediator_name": "Ruth Okoye", "mediation_on": driver.iso(25),
                                                  "attending_for_la": "Morgan Price, SEN manager",
                                                  "invite_health": "yes", "invite_social_care": "no"},
                  caseworker, driver.day(40))
        driver.do(jacob, "UT_health_attendance", {"attendee_name": "Dr Harriet Ng", "can_agree_provision": "yes"},
                  driver.user("dco@icb.example"), driver.day(30))
        driver.do(jacob, "UT_mediation_outcome", {"held_on": driver.iso(25), "agreement_reached": "no"}, adviser,
                  driver.day(25, 16))
        driver.do(jacob, "UT_certificate_after_mediation", {"certificate_reference": "NMS-2041"}, adviser,
                  driver.day(24))

        amelia = new("Amelia", "King", 11)
        driver.tell(amelia, "appealable_decision_notified", {"decision": "cease", "notice_sent_on": driver.iso(60)},
                    driver.day(60))
        driver.do(amelia, "UT_adviser_contact", {"contacted_on": driver.iso(55), **contact}, adviser, driver.day(55))
        driver.do(amelia, "UT_certificate_no_mediation", {}, adviser, driver.day(54))
        driver.do(amelia, "UT_record_appeal", {"registered_on": driver.iso(22), "sent_to_la_on": driver.iso(21),
                                               "section_i_only": "no", "tribunal_reference": "EH825/26/00311"},
                  caseworker, driver.day(21))

        lucas = new("Lucas", "Wright", 13)
        driver.tell(lucas, "appealable_decision_notified", {"decision": "amended_plan", "sections": ["F", "I"],
                                                            "notice_sent_on": driver.iso(200)}, driver.day(200))
        driver.do(lucas, "UT_adviser_contact", {"contacted_on": driver.iso(190), **contact}, adviser,
                  driver.day(190))
        driver.do(lucas, "UT_certificate_no_mediation", {}, adviser, driver.day(189))
        driver.do(lucas, "UT_record_appeal", {"registered_on": driver.iso(170), "sent_to_la_on": driver.iso(168),
                                              "section_i_only": "no"}, caseworker, driver.day(168))
        driver.do(lucas, "UT_la_response", {"la_position": "oppose",
                                            "response_summary": "The provision in section F meets Lucas's needs."},
                  caseworker, driver.day(140))
        driver.do(lucas, "UT_record_hearing", {"hearing_on": driver.iso(20), "on_the_papers": "no"}, caseworker,
                  driver.day(20))
        driver.do(lucas, "UT_record_decision", {
            "decision_received_on": driver.iso(8), "appeal_outcome": "partly_allowed", "order_kind": "amend",
            "order_date": driver.iso(9), "order_summary": "Section F to specify 1 hour of occupational therapy a week",
            "health_recommendations": "yes", "health_recommendation_text": "An occupational therapy assessment",
            "social_care_recommendations": "no"}, caseworker, driver.day(8))

        chloe = new("Chloe", "Baker", 9)
        driver.move(driver.day(12))
        engine.start(chloe, "complaint", actor=caseworker)
        driver.do(chloe, "UT_record_complaint", {
            "received_on": driver.iso(12), "complainant": "parent", "complainant_name": "Sam Baker",
            "complainant_aged_18_or_over": "no", "about": "childrens_social_care",
            "complaint_summary": "Short breaks were stopped without a reassessment."}, caseworker, driver.day(12, 11))
        driver.do(chloe, "UT_appoint_independent_person", {"independent_person": "Pat Doyle",
                                                           "appointed_on": driver.iso(10)}, social_care, driver.day(10))
    finally:
        driver.restore()


seed_disagreements.process_id = "disagreement_resolution"  # type: ignore[attr-defined]
