"""When reviews fall due, phase transfers, terms and age milestones (engine/casework/reviews.py, review_terms.py and
family_rights.py), with the dates worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from engine.casework import family_rights, review_documents, review_terms, reviews, termly_review_lists
from engine.casework.review_terms import Term
from engine.casework.reviews import PhaseTransfer

# ---- review due dates -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("last", "due"), [
    ("2028-02-29", date(2029, 2, 28)),  # no 29 February in 2029: the month-end rule
    ("2026-01-31", date(2027, 1, 31)),
    ("2027-03-01", date(2028, 3, 1)),
])
def test_statutory_review_due_is_12_calendar_months_later(last: str, due: date) -> None:
    assert reviews.statutory_review_due(last) == due


def test_under_fives_are_reviewed_every_3_to_6_months() -> None:
    # Born 3 June 2022: 3 on 15 January 2026.
    assert reviews.next_review_due("2026-01-15", "2022-06-03") == date(2026, 7, 15)
    assert reviews.next_review_due("2026-01-15", "2022-06-03", under_five_months=3) == date(2026, 4, 15)
    # Born 10 January 2021: 5 on 15 January 2026, so the 12 months apply.
    assert reviews.next_review_due("2026-01-15", "2021-01-10") == date(2027, 1, 15)
    with pytest.raises(ValueError, match="every 3 to 6 months"):
        reviews.next_review_due("2026-01-15", "2022-06-03", under_five_months=7)


# ---- phase transfers --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "moving", "deadline"), [
    ("school", "2028-09-01", date(2028, 2, 15)),             # reg 18(1)(b)
    ("post16", "2031-09-01", date(2031, 3, 31)),             # reg 18(1)(a)
    ("post16_to_post16", "2027-01-05", date(2026, 8, 5)),    # reg 18(2): 5 months before
    ("post16_to_post16", "2027-07-31", date(2027, 2, 28)),   # 31 July - 5 months: no 31 February
])
def test_phase_transfer_review_deadline(kind: str, moving: str, deadline: date) -> None:
    assert reviews.phase_transfer_review_deadline(kind, moving) == deadline


def test_unknown_transfer_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="phase transfer is one of"):
        reviews.phase_transfer_review_deadline("university", "2030-09-01")


@pytest.mark.parametrize(("born", "group", "starts"), [
    ("2017-03-10", 7, date(2028, 9, 1)),   # 11 on 31 August 2028: 11 - 4 = Year 7
    ("2017-08-31", 0, date(2021, 9, 1)),   # 4 on 31 August 2021: Reception
    ("2017-09-01", 0, date(2022, 9, 1)),   # still 3 on 31 August 2021: Reception a year later
    ("2017-03-10", 12, date(2033, 9, 1)),
])
def test_transfer_starts_in_the_september_the_child_enters_the_year(born: str, group: int, starts: date) -> None:
    assert reviews.transfer_starts(born, group) == starts


def test_next_phase_transfer() -> None:
    assert reviews.next_phase_transfer("2017-03-10", "2027-04-20") == PhaseTransfer("school", date(2028, 9, 1), 7)
    assert reviews.next_phase_transfer("2017-03-10", "2028-09-01") == PhaseTransfer("post16", date(2033, 9, 1), 12)
    assert reviews.next_phase_transfer("2017-03-10", "2033-09-01") is None
    # An authority with infant and junior schools adds Year 3.
    groups = {0: "school", 3: "school", 7: "school", 12: "post16"}
    assert reviews.next_phase_transfer("2017-03-10", "2023-01-01", groups) == PhaseTransfer(
        "school", date(2024, 9, 1), 3)


# ---- scheduling a review ---------------------------------------------------------------------------------------

ZARA = "2017-03-10"  # Year 7 from 1 September 2028


def test_phase_transfer_due_15_february_before_the_12_months() -> None:
    """Last review 20 April 2027: 12 months is 20 April 2028; the transfer on 1 September 2028 is within 12 months
    of that, so this is the phase-transfer review, due 15 February 2028. It starts 20 weeks (140 days) before:
    28 September 2027."""
    schedule = reviews.schedule_review("2027-04-20", ZARA)
    assert (schedule.kind, schedule.statutory_due, schedule.due, schedule.start_on) == (
        "phase_transfer", date(2028, 4, 20), date(2028, 2, 15), date(2027, 9, 28))
    assert schedule.transfer == PhaseTransfer("school", date(2028, 9, 1), 7)
    data = schedule.start_data()
    assert (data["review_due"], data["phase_transfer_due"], data["transfer_kind"], data["scheduled"]) == (
        "2028-02-15", "2028-02-15", "school", True)
    assert data["review_decision_weeks"] == 4


def test_twelve_months_first_when_it_comes_before_15_february() -> None:
    """Last review 1 January 2027: 12 months is 1 January 2028, before 15 February 2028, but the review is held
    within 12 months of the transfer (from 1 September 2027), so it is still the phase-transfer review."""
    schedule = reviews.schedule_review("2027-01-01", ZARA)
    assert (schedule.kind, schedule.due) == ("phase_transfer", date(2028, 1, 1))
    assert schedule.transfer is not None and schedule.transfer.deadline == date(2028, 2, 15)


def test_review_before_the_transfer_window_is_an_annual_review() -> None:
    """Last review 1 August 2026: due 1 August 2027, before the window opens on 1 September 2027. Starts 10 weeks
    (70 days) before: 23 May 2027."""
    schedule = reviews.schedule_review("2026-08-01", ZARA)
    assert (schedule.kind, schedule.due, schedule.start_on, schedule.transfer) == (
        "annual", date(2027, 8, 1), date(2027, 5, 23), None)


def test_the_review_after_the_phase_transfer_review_is_annual() -> None:
    """Reviewed on 30 November 2027, within the window of the 2028 transfer: that was its review."""
    schedule = reviews.schedule_review("2027-11-30", ZARA)
    assert (schedule.kind, schedule.due) == ("annual", date(2028, 11, 30))


def test_secondary_to_post16_by_31_march() -> None:
    """Born 1 May 2010: Year 12 from 1 September 2026. Last review 1 June 2025: 12 months is 1 June 2026, but the
    plan must name the college by 31 March 2026."""
    schedule = reviews.schedule_review("2025-06-01", "2010-05-01")
    assert (schedule.kind, schedule.due) == ("phase_transfer", date(2026, 3, 31))
    assert schedule.transfer == PhaseTransfer("post16", date(2026, 9, 1), 12)


def test_under_five_and_statutory_due_override() -> None:
    # Born 3 June 2022, reviewed 15 January 2026 within 12 months of starting school (September 2026): that was
    # the phase-transfer review, so the next is the under-five review 6 months on.
    schedule = reviews.schedule_review("2026-01-15", "2022-06-03")
    assert (schedule.kind, schedule.due, schedule.statutory_due) == ("under_five", date(2026, 7, 15),
                                                                    date(2027, 1, 15))
    # A plan transferred from another authority: its clock says 10 April 2027 (3 months after the transfer).
    moved = reviews.schedule_review("2026-01-10", statutory_due="2027-04-10")
    assert (moved.kind, moved.due) == ("annual", date(2027, 4, 10))


# ---- age milestones ---------------------------------------------------------------------------------------------

def test_rights_pass_to_the_young_person_the_day_after_compulsory_school_age() -> None:
    """Born 20 January 2009: compulsory school age ends on Friday 27 June 2025 (last Friday of June, Year 11)."""
    assert family_rights.rights_holder("2009-01-20", "2025-06-27") == "parent"
    assert family_rights.rights_holder("2009-01-20", "2025-06-28") == "young_person"
    assert family_rights.rights_holder(None, "2025-06-28") == "parent"
    assert family_rights.notice_addressee("2009-01-20", "2026-01-01") == "young_person"
    assert family_rights.notice_addressee("2009-01-20", "2026-01-01", young_person_named_parent=True) == (
        "parent_for_young_person")
    assert family_rights.notice_addressee("2009-01-20", "2025-01-01", young_person_named_parent=True) == "parent"


def test_preparing_for_adulthood_from_year_9() -> None:
    """Born 1 March 2012: 13 on 31 August 2025, so Year 9 from 1 September 2025."""
    assert reviews.year_nine_starts("2012-03-01") == date(2025, 9, 1)
    assert not reviews.preparing_for_adulthood("2012-03-01", "2025-08-31")
    assert reviews.preparing_for_adulthood("2012-03-01", "2025-09-01")


def test_age_milestones() -> None:
    assert [(m.key, m.on) for m in reviews.age_milestones("2009-01-20")] == [
        ("year_9", date(2022, 9, 1)),
        ("end_of_compulsory_school_age", date(2025, 6, 27)),
        ("age_18", date(2027, 1, 20)),
        ("age_19", date(2028, 1, 20)),
        ("age_25", date(2034, 1, 20)),
    ]


# ---- terms ------------------------------------------------------------------------------------------------------

def test_term_list_goes_out_two_weeks_before_the_term() -> None:
    spring = review_terms.term_named("Spring 2029")  # starts Wednesday 3 January 2029
    assert spring.list_due == date(2028, 12, 20)


def test_the_list_is_sent_on_the_last_working_day_two_weeks_or_more_before_the_term() -> None:
    """Spring 2029 starts Wednesday 3 January 2029: 14 days before is Wednesday 20 December 2028, a working day.
    Summer 2029 starts Monday 16 April 2029: 14 days before is Monday 2 April 2029, Easter Monday (Easter Sunday is
    1 April 2029); Sunday 1 and Saturday 31 March are the weekend and Friday 30 March is Good Friday, so the list goes
    on Thursday 29 March 2029."""
    spring, summer = review_terms.term_named("Spring 2029"), review_terms.term_named("Summer 2029")
    assert spring.send_on == spring.list_due == date(2028, 12, 20)
    assert summer.list_due == date(2029, 4, 2) and summer.send_on == date(2029, 3, 29)
    assert review_terms.terms_to_send("2029-03-28") == []
    assert review_terms.terms_to_send("2029-03-29") == [summer]
    assert review_terms.terms_to_send("2029-04-15") == [summer]  # late after downtime rather than never
    assert review_terms.terms_to_send("2029-04-16") == []  # the term has started


def test_a_review_due_in_the_holidays_is_on_the_next_term_list() -> None:
    assert review_terms.term_for("2029-04-05").name == "Summer 2029"   # Easter holidays
    assert review_terms.term_for("2029-03-29").name == "Spring 2029"   # last day of term
    assert review_terms.term_window(review_terms.term_named("Summer 2029")) == (date(2029, 3, 30), date(2029, 7, 20))
    assert review_terms.next_term("2026-03-02").name == "Summer 2026"


def test_dates_beyond_the_term_table_name_the_setting() -> None:
    with pytest.raises(LookupError, match="TERM_DATES"):
        review_terms.term_for("2031-01-01")
    with pytest.raises(LookupError, match="TERM_DATES"):
        review_terms.term_named("Autumn 2040")


def test_term_table_is_checked() -> None:
    with pytest.raises(ValueError, match="starts before"):
        review_terms._check_terms((Term("A", date(2026, 1, 5), date(2026, 3, 27)),
                              Term("B", date(2026, 3, 20), date(2026, 7, 22))))


def test_notices_are_registered_with_the_document_renderer() -> None:
    from pathlib import Path

    from engine.casework import documents

    templates = Path(documents.TEMPLATE_DIR)
    mine = sorted(p.stem for p in templates.glob("*.html") if p.stem[:3] in ("ar_", "am_", "ra_", "cp_"))
    assert mine == sorted(review_documents.DOCUMENT_TEMPLATES)
    documents.load_route_documents()
    assert all(documents.TEMPLATES[name] is review_documents.DOCUMENT_TEMPLATES[name] for name in mine)


def test_the_termly_list_escapes_what_was_typed() -> None:
    from types import SimpleNamespace

    review = SimpleNamespace(child_name="<script>alert(1)</script>", reference="R&1",
                             schedule=SimpleNamespace(kind="annual", due=date(2027, 4, 26)))
    body = termly_review_lists._LIST_TEMPLATE.render(
        la=SimpleNamespace(name="Testshire"), issued_on=date(2027, 3, 25), organisation_name="A & B School",
        title="Reviews of EHC plans due in Summer 2027", term=review_terms.term_named("Summer 2027"),
        first=date(2027, 3, 26), role_note="", reviews=[review], kinds=termly_review_lists.REVIEW_KIND_NAMES)
    assert "<script>" not in body and "&lt;script&gt;" in body and "R&amp;1" in body and "A &amp; B" in body
    assert "26 April 2027" in body and "Annual review" in body
