"""EHC plan data: the section rules, versions, the comparison, immutability of issued versions, and rendering."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from engine.casework import plan_hooks, plan_rules, plan_sections, plans, setting_directory
from engine.casework.plan_render import render_comparison_html, render_plan_html, render_plan_pdf
from engine.casework.plan_rules import check_sections, validate_sections
from engine.casework.plan_sections import SECTION_ORDER, PlanInvalid, normalise_sections
from engine.casework.plans import compare_versions, create_draft, issue_plan, list_versions, new_draft_version, update_draft
from engine.casework.setting_directory import settings_directory
from engine.errors import InvalidState
from engine.people.users import create_organisation
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.models import Case, Organisation, PlanVersion

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

ADVICE = [{"provider": "Dr Eleanor Park", "kind": "psychological", "received_on": "2026-01-12",
           "title": "Educational psychology report"},
          {"from": "Test Primary School", "advice_type": "educational", "date": "2025-12-15"}]

SECTIONS: dict[str, Any] = {
    "A": {"views": "Alex enjoys trains.", "interests": "Drawing", "aspirations": "To read on his own"},
    "B": {"needs": [{"area": "communication_and_interaction", "description": "Speech sound difficulties"},
                    {"area": "cognition_and_learning", "description": "Working memory"}]},
    "C": {"needs": [{"description": "Glue ear"}]},
    "D": {"needs": []},
    "E": {"outcomes": [{"description": "Speaks in short sentences", "by_when": "July 2027", "needs": ["B1"]}]},
    "F": {"provision": [{"description": "Speech and language therapy", "amount": "3 x 30 minutes a week",
                         "provided_by": "Speech and language therapist", "needs": ["B1"]},
                        {"description": "Visual prompts", "amount": "Every lesson", "provided_by": "Class teacher",
                         "needs": ["B2"]}]},
    "G": {"provision": [{"description": "Audiology review", "amount": "Every 6 months", "provided_by": "Audiology",
                         "needs": ["C1"]}]},
    "H1": {"provision": []},
    "H2": {"provision": []},
    "K": {"advice": ADVICE},
}


@pytest.fixture
def db(services: Services) -> Iterator[tuple[Session, int, Organisation]]:
    """A session with a local authority, a school and a case (Alex, born 14 May 2015: Year 5 in March 2026)."""
    clock = FrozenClock(NOW)
    with services.session_factory() as s:
        la = create_organisation(s, "Testshire Council", "local_authority", clock, code="TST")
        school = create_organisation(s, "Elm Primary School", "setting", clock, setting_type="maintained_school",
                                     maintaining_la_id=la.id)
        case = Case(reference="EHC-2026-00001", child_first_name="Alex", child_last_name="Taylor",
                    date_of_birth=date(2015, 5, 14), la_id=la.id, status="open", created_at=NOW)
        s.add(case)
        s.commit()
        yield s, case.id, school


def _final_changes(session: Session, school: Organisation) -> dict[str, Any]:
    return {"I": setting_directory.describe_setting(session, school.id)}


def _three_versions(s: Session, case_id: int, school: Organisation) -> tuple[PlanVersion, PlanVersion, PlanVersion]:
    draft1 = create_draft(s, case_id, SECTIONS, now=NOW, advice=ADVICE)
    new_f = copy.deepcopy(SECTIONS["F"])
    new_f["provision"].append({"description": "Social skills group", "amount": "1 hour a week",
                               "provided_by": "SENCO", "needs": ["B1"]})
    draft2 = new_draft_version(s, case_id, {"section_f": new_f}, now=NOW)
    final = issue_plan(s, case_id, "final", _final_changes(s, school), now=NOW)
    s.commit()
    return draft1, draft2, final


# ---- the section rules ---------------------------------------------------------------------------------------------

def test_normalising_gives_every_section_and_numbers_items() -> None:
    s = normalise_sections(SECTIONS)
    assert list(s) == list(SECTION_ORDER)
    assert [n["id"] for n in s["B"]["needs"]] == ["B1", "B2"]
    assert [p["id"] for p in s["F"]["provision"]] == ["F1", "F2"]
    # Advice written the assessment's way ("from", "advice_type", "date") is read too.
    assert s["K"]["advice"][1] == {"id": "K2", "provider": "Test Primary School", "kind": "educational",
                                   "received_on": "2025-12-15", "title": ""}
    assert plan_sections.is_blank_i(s["I"]) and s["J"]["status"] == "not_requested"
    assert normalise_sections({"section_h1": {"provision": [{"description": "x"}]}})["H1"]["provision"][0]["id"] == \
        "H11"


def test_section_k_from_the_assessment_s_advice_record() -> None:
    """The needs assessment keeps advice as {advice type: record}, re-used advice with its report and date."""
    advice = {
        "education": {"title": "Educational advice", "status": "received", "given_by": "Sam Green (SENCO)",
                      "received_on": "2026-01-20", "needs": "Reading", "due": "2026-02-02"},
        "psychological": {"title": "Psychological advice", "status": "reused", "report": "EP report 2025",
                          "report_date": "2025-10-01", "agreed_by": ["provider", "family"]},
    }
    k = plan_sections.advice_to_section_k(advice)
    assert k["advice"] == [
        {"id": "K1", "provider": "Sam Green (SENCO)", "kind": "education", "received_on": "2026-01-20",
         "title": "Educational advice"},
        {"id": "K2", "provider": "", "kind": "psychological", "received_on": "2025-10-01",
         "title": "Psychological advice (existing advice re-used by agreement: EP report 2025)"},
    ]
    assert check_sections({**SECTIONS, "K": k}, "draft") == []
    assert check_sections({**SECTIONS, "K": {"advice": [{"kind": "medical"}]}}, "draft") == [
        plan_rules.PlanProblem("K", "Say what advice K1 is and who gave it")]


def test_a_valid_draft_passes() -> None:
    assert check_sections(SECTIONS, "draft", year_group=5) == []


def test_section_f_must_make_provision_for_every_need_in_b() -> None:
    broken = {**SECTIONS, "F": {"provision": [SECTIONS["F"]["provision"][0]]}}
    assert check_sections(broken, "draft") == [
        plan_rules.PlanProblem("F", "Section F has no provision for need B2 in section B: Working memory")]
    with pytest.raises(PlanInvalid) as bad:
        validate_sections(broken, "draft")
    assert bad.value.errors == {"section_f": "Section F has no provision for need B2 in section B: Working memory"}


def test_section_f_must_be_specific_and_quantified() -> None:
    vague = copy.deepcopy(SECTIONS)
    vague["F"]["provision"][0]["amount"] = ""
    vague["F"]["provision"][1]["provided_by"] = " "
    assert [p.message for p in check_sections(vague, "draft")] == [
        "Provision F1 must be quantified: say how much and how often",
        "Provision F2 must say who will provide it"]


def test_provision_must_refer_to_real_needs() -> None:
    wrong = copy.deepcopy(SECTIONS)
    wrong["G"]["provision"][0]["needs"] = ["C9"]
    assert check_sections(wrong, "draft") == [
        plan_rules.PlanProblem("G", "Provision G1 refers to need C9, which is not in sections B, C or D")]


@pytest.mark.parametrize("year_group", [9, 11, 14])
def test_from_year_9_provision_sections_include_preparing_for_adulthood(year_group: int) -> None:
    problems = check_sections(SECTIONS, "draft", year_group=year_group)
    # F and G have provision and none of it prepares for adulthood; H1 and H2 are empty, so nothing is asked of them.
    assert [p.section for p in problems] == ["F", "G"]
    assert problems[0].message == ("From Year 9, section F must include provision to help prepare for adulthood and "
                                   "independent living")
    ready = copy.deepcopy(SECTIONS)
    ready["F"]["provision"][0]["preparing_for_adulthood"] = True
    ready["G"]["provision"][0]["preparing_for_adulthood"] = True
    assert check_sections(ready, "draft", year_group=year_group) == []
    ready["H2"] = {"provision": [{"description": "Travel training", "amount": "weekly", "provided_by": "Social care"}]}
    assert [p.section for p in check_sections(ready, "draft", year_group=year_group)] == ["H2"]


def test_before_year_9_preparing_for_adulthood_is_not_required() -> None:
    assert check_sections(SECTIONS, "draft", year_group=8) == []
    assert check_sections(SECTIONS, "draft", year_group=None) == []


def test_section_i_is_blank_in_a_draft_and_filled_in_an_issued_plan(db: tuple[Session, int, Organisation]) -> None:
    s, _, school = db
    named = {**SECTIONS, "I": setting_directory.describe_setting(s, school.id)}
    assert check_sections(named, "draft") == [plan_rules.PlanProblem(
        "I", "Leave section I blank in a draft plan: the family may ask for a school or college to be named")]
    assert check_sections(named, "draft", amending=True) == []  # proposed amendments keep the named setting
    assert check_sections(SECTIONS, "final") == [plan_rules.PlanProblem(
        "I", "Name the school or other institution, or at least the type of school, in the plan")]
    assert check_sections(named, "final") == []
    assert check_sections({**SECTIONS, "I": {"type_only": True, "setting_type": "Special school"}}, "final") == []


def test_section_k_lists_the_advice() -> None:
    assert check_sections({**SECTIONS, "K": {"advice": []}}, "draft") == [
        plan_rules.PlanProblem("K", "List the advice and information gathered during the assessment")]


def test_section_j_rules() -> None:
    agreed = {**SECTIONS, "J": {"status": "agreed", "indicative_amount": 1000, "provision": "F1",
                                "direct_payments": True}}
    assert [p.message for p in check_sections(agreed, "draft")] == [
        "Say which special educational needs and outcomes the direct payments will meet"]
    assert [p.message for p in check_sections({**SECTIONS, "J": {"status": "refused"}}, "draft")] == [
        "Give the reasons for refusing the personal budget"]
    assert [p.message for p in check_sections({**SECTIONS, "J": {"status": "agreed"}}, "draft")] == [
        "Give the indicative amount of the personal budget", "Say which provision the personal budget covers"]


def test_section_j_from_the_route_data() -> None:
    assert plan_hooks.section_j_from_data({})["status"] == "not_requested"
    assert plan_hooks.section_j_from_data({"personal_budget_requested": True})["status"] == "requested"
    refused = plan_hooks.section_j_from_data({"personal_budget_requested": True, "pb_decision": "refuse",
                                         "pb_refusal_reasons": "Cannot be separated"})
    assert (refused["status"], refused["refusal_reasons"]) == ("refused", "Cannot be separated")
    base = {"personal_budget_requested": True, "pb_decision": "agree", "pb_indicative_amount": 1500,
            "pb_provision": "F1", "pb_direct_payments": True, "pb_dp_on_setting_premises": True,
            "pb_dp_needs_outcomes": "B1"}
    agreed = plan_hooks.section_j_from_data({**base, "dp_setting_agrees": True})
    assert (agreed["direct_payments"], agreed["dp_setting_agreed"], agreed["dp_needs_and_outcomes"]) == (
        True, True, "B1")
    # Without the setting's agreement there are no direct payments for provision on its premises.
    refused_dp = plan_hooks.section_j_from_data({**base, "dp_setting_agrees": False})
    assert (refused_dp["direct_payments"], refused_dp["dp_setting_agreed"], refused_dp["dp_needs_and_outcomes"]) == (
        False, False, "")


# ---- versions -------------------------------------------------------------------------------------------------------

def test_versions_are_numbered_labelled_and_all_kept(db: tuple[Session, int, Organisation]) -> None:
    s, case_id, school = db
    draft1, draft2, final = _three_versions(s, case_id, school)
    amended = issue_plan(s, case_id, "amended", {"A": {"views": "Alex now enjoys football."}}, now=NOW)
    s.commit()
    assert [(v.number, v.kind, v.label, v.is_issued) for v in list_versions(s, case_id)] == [
        (1, "draft", "Draft 1", False), (2, "draft", "Draft 2", False), (3, "final", "Final plan", True),
        (4, "amended", "Amended plan 1", True)]
    assert (draft2.based_on_id, final.based_on_id, amended.based_on_id) == (draft1.id, draft2.id, final.id)
    assert plans.current_plan(s, case_id).id == amended.id
    assert final.sections["I"]["name"] == "Elm Primary School"
    assert [a["provider"] for a in draft1.sections["K"]["advice"]] == ["Dr Eleanor Park", "Test Primary School"]


def test_a_draft_from_advice_replaces_any_section_k_typed_in(db: tuple[Session, int, Organisation]) -> None:
    s, case_id, _ = db
    draft = create_draft(s, case_id, {**SECTIONS, "K": {"advice": [{"provider": "Someone else"}]}}, now=NOW,
                         advice=ADVICE[:1])
    assert [a["provider"] for a in draft.sections["K"]["advice"]] == ["Dr Eleanor Park"]


def test_a_year_9_child_needs_preparing_for_adulthood_in_the_plan(db: tuple[Session, int, Organisation]) -> None:
    s, case_id, _ = db
    s.get(Case, case_id).date_of_birth = date(2011, 10, 1)  # Year 9 in 2025/26
    with pytest.raises(PlanInvalid) as bad:
        create_draft(s, case_id, SECTIONS, now=NOW, advice=ADVICE)
    assert set(bad.value.errors) == {"section_f", "section_g"}


def test_issuing_a_plan_that_breaks_the_rules_is_refused(db: tuple[Session, int, Organisation]) -> None:
    s, case_id, _ = db
    create_draft(s, case_id, SECTIONS, now=NOW, advice=ADVICE)
    with pytest.raises(PlanInvalid) as bad:
        issue_plan(s, case_id, "final", {}, now=NOW)
    assert list(bad.value.errors) == ["section_i"]
    with pytest.raises(InvalidState):
        issue_plan(s, case_id + 1000, "final", {}, now=NOW)


# ---- an issued version never changes --------------------------------------------------------------------------------

def test_a_draft_can_be_corrected_before_it_is_issued(db: tuple[Session, int, Organisation]) -> None:
    s, case_id, _ = db
    draft = create_draft(s, case_id, SECTIONS, now=NOW, advice=ADVICE)
    update_draft(s, draft.id, {"A": {"views": "Corrected"}}, now=NOW)
    s.commit()
    s.expire_all()
    assert s.get(PlanVersion, draft.id).sections["A"]["views"] == "Corrected"


def test_a_superseded_draft_is_kept_as_it_was(db: tuple[Session, int, Organisation]) -> None:
    s, case_id, _ = db
    draft1 = create_draft(s, case_id, SECTIONS, now=NOW, advice=ADVICE)
    new_draft_version(s, case_id, {"A": {"views": "Changed"}}, now=NOW)
    with pytest.raises(InvalidState, match="Draft 1 has been superseded by Draft 2"):
        update_draft(s, draft1.id, {"A": {"views": "Rewritten"}}, now=NOW)


def test_issued_version_cannot_be_edited_through_the_plans_api(db: tuple[Session, int, Organisation]) -> None:
    s, case_id, school = db
    _, _, final = _three_versions(s, case_id, school)
    with pytest.raises(InvalidState, match="An issued plan never changes"):
        update_draft(s, final.id, {"A": {"views": "Rewritten"}}, now=NOW)


@pytest.mark.parametrize(("attribute", "value"), [
    ("sections", {"A": {"views": "Rewritten"}}), ("label", "Final plan (edited)"), ("kind", "draft"),
    ("issued_at", None), ("number", 99)])
def test_issued_version_cannot_be_edited_through_the_orm(db: tuple[Session, int, Organisation], attribute: str,
                                                         value: Any) -> None:
    s, case_id, school = db
    _, _, final = _three_versions(s, case_id, school)
    setattr(final, attribute, value)
    with pytest.raises(PermissionError, match="an issued plan never changes"):
        s.flush()
    s.rollback()
    assert s.get(PlanVersion, final.id).sections["I"]["name"] == "Elm Primary School"


def test_issued_version_cannot_be_edited_or_deleted_with_sql(services: Services,
                                                             db: tuple[Session, int, Organisation]) -> None:
    s, case_id, school = db
    draft1, _, final = _three_versions(s, case_id, school)
    with services.db.connect() as conn:
        with pytest.raises(DBAPIError, match="an issued plan never changes"):
            conn.execute(text("UPDATE plan_version SET label = 'forged' WHERE id = :id"), {"id": final.id})
        conn.rollback()
        with pytest.raises(DBAPIError, match="an issued plan never changes"):
            conn.execute(text("UPDATE plan_version SET issued_at = NULL WHERE id = :id"), {"id": final.id})
        conn.rollback()
        with pytest.raises(DBAPIError, match="an issued plan never changes"):
            conn.execute(text("DELETE FROM plan_version WHERE id = :id"), {"id": final.id})
        conn.rollback()
        # A draft is not protected: it is still being worked on.
        conn.execute(text("UPDATE plan_version SET label = 'Draft 1 (corrected)' WHERE id = :id"), {"id": draft1.id})
        conn.commit()
    s.expire_all()
    assert (s.get(PlanVersion, final.id).label, s.get(PlanVersion, draft1.id).label) == (
        "Final plan", "Draft 1 (corrected)")


# ---- comparison -----------------------------------------------------------------------------------------------------

CHANGED: dict[str, Any] = {
    "A": {"views": "Alex now enjoys football.", "interests": "Drawing", "aspirations": "To read on his own"},
    "B": {"needs": [*SECTIONS["B"]["needs"], {"area": "sensory_and_physical", "description": "Fine motor skills"}]},
    "C": {"needs": []},
    "D": {"needs": [{"description": "Needs short breaks"}]},
    "E": {"outcomes": [{"description": "Speaks in full sentences", "by_when": "July 2027", "needs": ["B1"]}]},
    "F": {"provision": [SECTIONS["F"]["provision"][1] | {"id": "F2"},
                        SECTIONS["F"]["provision"][0] | {"id": "F1", "amount": "4 x 30 minutes a week"}]},
    "G": {"provision": []},
    "H1": {"provision": [{"description": "Short breaks", "amount": "1 weekend a month", "provided_by": "Social care",
                          "needs": ["D1"]}]},
    "H2": {"provision": [{"description": "Carers' assessment", "amount": "once", "provided_by": "Adult social care"}]},
    "I": {"setting_id": 7, "name": "Elm Primary School", "setting_type": "Maintained school"},
    "J": {"status": "refused", "refusal_reasons": "Not separable"},
    "K": {"advice": [*ADVICE, {"provider": "Speech and language therapy", "kind": "health"}]},
}


@pytest.mark.parametrize("section", SECTION_ORDER)
def test_comparison_shows_exactly_the_changed_section(section: str) -> None:
    after = {**SECTIONS, section: CHANGED[section]}
    changes = compare_versions(SECTIONS, after)
    assert [c.section for c in changes] == [section]
    assert changes[0].title == plan_sections.SECTION_TITLES[section]
    assert changes[0].appealable == (section in ("B", "F", "I"))


def test_comparison_of_identical_versions_is_empty_and_item_changes_are_named() -> None:
    assert compare_versions(SECTIONS, copy.deepcopy(SECTIONS)) == []
    # Listing the same provision in another order changes how the section reads, so the section is shown as
    # changed, but no item in it is reported added, removed or changed.
    reordered = {**SECTIONS, "F": {"provision": list(reversed(normalise_sections(SECTIONS)["F"]["provision"]))}}
    (moved,) = compare_versions(SECTIONS, reordered)
    assert (moved.section, moved.added, moved.removed, moved.changed) == ("F", (), (), ())
    # CHANGED["F"] reorders the items and changes F1's amount: only F1 is named.
    change = compare_versions(SECTIONS, {**SECTIONS, "F": CHANGED["F"]})[0]
    assert (change.added, change.removed, change.changed) == ((), (), ("F1",))


def test_comparison_lists_items_added_removed_and_changed() -> None:
    after = {**SECTIONS, "B": CHANGED["B"], "K": CHANGED["K"], "A": CHANGED["A"],
             "G": {"provision": []}}
    changes = {c.section: c for c in compare_versions(SECTIONS, after)}
    assert list(changes) == ["A", "B", "G", "K"]
    assert changes["A"].fields == ("views",)
    assert changes["B"].added == ("B3",)
    assert changes["G"].removed == ("G1",)
    assert changes["K"].added == ("K3",)


def test_any_two_versions_can_be_compared(db: tuple[Session, int, Organisation]) -> None:
    s, case_id, school = db
    draft1, draft2, final = _three_versions(s, case_id, school)
    assert [c.section for c in compare_versions(draft1, draft2)] == ["F"]
    assert [c.section for c in compare_versions(draft2, final)] == ["I"]
    assert [c.section for c in compare_versions(draft1, final)] == ["F", "I"]
    assert [c.section for c in compare_versions(final, draft1)] == ["F", "I"]  # either way round


# ---- the directory of settings --------------------------------------------------------------------------------------

def test_settings_directory_by_type_and_maintaining_la(db: tuple[Session, int, Organisation]) -> None:
    s, _, school = db
    clock = FrozenClock(NOW)
    other = create_organisation(s, "Otherham Council", "local_authority", clock)
    create_organisation(s, "Hill Academy", "setting", clock, setting_type="academy", maintaining_la_id=other.id)
    create_organisation(s, "Closed School", "setting", clock, setting_type="academy", maintaining_la_id=other.id,
                        active=False)
    create_organisation(s, "Testshire ICB", "health_body", clock)
    assert [o.name for o in settings_directory(s)] == ["Elm Primary School", "Hill Academy"]
    assert [o.name for o in settings_directory(s, "academy")] == ["Hill Academy"]
    assert [o.name for o in settings_directory(s, ["academy", "maintained_school"], other.id)] == ["Hill Academy"]
    assert [o.name for o in settings_directory(s, "academy", include_inactive=True)] == ["Closed School",
                                                                                         "Hill Academy"]
    assert [o.name for o in settings_directory(s, name_contains="elm")] == ["Elm Primary School"]
    with pytest.raises(ValueError, match="Unknown type of setting"):
        settings_directory(s, "grammar")
    assert setting_directory.describe_setting(s, school.id)["maintaining_la"] == "Testshire Council"
    with pytest.raises(PlanInvalid):
        setting_directory.describe_setting(s, other.id)  # a local authority is not a setting


def test_demo_directory_has_settings_of_every_type_the_family_can_ask_for() -> None:
    from demo.seed import SETTINGS

    asked_for = {"maintained_school", "maintained_nursery", "academy", "free_school", "fe_college",
                 "sixth_form_college", "non_maintained_special", "independent_s41"}
    assert asked_for <= {setting_type for _, setting_type, _ in SETTINGS}
    assert asked_for <= set(plan_sections.SETTING_TYPES)


# ---- rendering ------------------------------------------------------------------------------------------------------

def test_html_has_a_heading_per_section_tables_and_escapes_what_people_typed(
        db: tuple[Session, int, Organisation]) -> None:
    from bs4 import BeautifulSoup

    s, case_id, school = db
    hostile = {**SECTIONS, "A": {"views": "<script>alert(1)</script> & more"}}
    draft = create_draft(s, case_id, hostile, now=NOW, advice=ADVICE)
    html = render_plan_html(s, draft)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == "en-GB"
    assert [h.get_text() for h in soup.find_all("h1")] == ["Education, health and care plan"]
    section_headings = [h.get_text() for h in soup.find_all("h2") if h.get_text().startswith("Section ")]
    assert [h.split(":")[0] for h in section_headings] == [f"Section {x}" for x in SECTION_ORDER]
    f_table = soup.find(id="section-f").find("table")
    assert f_table.caption.get_text() == "Provision in section F"
    assert [th.get_text() for th in f_table.thead.find_all("th")] == [
        "Ref", "Provision", "How much and how often", "Provided by", "Needs met", "Preparing for adulthood"]
    assert all(th["scope"] == "col" for th in f_table.thead.find_all("th"))
    assert "Left blank in the draft plan." in soup.find(id="section-i").get_text()
    assert "appeal" in soup.find(id="section-b").get_text() and "appeal" not in soup.find(id="section-c").get_text()
    fragment = render_plan_html(s, draft, standalone=False)
    assert "<html" not in fragment and "<h1" not in fragment


def test_comparison_page_shows_only_the_changed_sections(db: tuple[Session, int, Organisation]) -> None:
    from bs4 import BeautifulSoup

    s, case_id, school = db
    draft1, draft2, _ = _three_versions(s, case_id, school)
    soup = BeautifulSoup(render_comparison_html(s, draft1, draft2), "html.parser")
    assert [h.get_text() for h in soup.find_all("h2")] == ["Section F: Special educational provision"]
    assert "Added: F3" in soup.get_text()


def test_pdf_is_a_readable_a4_document_with_a_bookmark_per_section(db: tuple[Session, int, Organisation]) -> None:
    s, case_id, school = db
    _, _, final = _three_versions(s, case_id, school)
    pdf = render_plan_pdf(s, final)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/Outlines" in pdf and pdf.count(b"/Title (Section ") == len(SECTION_ORDER)
    assert b"EHC plan for Alex Taylor: Final plan" in pdf  # the document title in its metadata
    assert b"/Lang (en-GB)" in pdf
    draft = render_plan_pdf(s, list_versions(s, case_id)[0])
    assert len(draft) > 2000
