"""Telling a case's routes what happened outside EHC Flow, from the case page (engine/casework/case_messages.py,
webui/cases/messages.py): each message's form, its errors, the check-your-answers page, that the message reaches the
real route waiting for it, who may send it, and the family asking for disagreement resolution on its own case.

The clock is frozen on Monday 2 March 2026, 10:00 UTC (tests/conftest.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from engine.casework.case_messages import MESSAGES, check_payload, offered_messages
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import AuditEvent, Case, Deadline, HumanTask, Message, ProcessInstance
from tests.conftest import World
from tests.web.conftest import Client, open_task, soup, text_of


@pytest.fixture
def routes(deployed: Any) -> None:
    """Every route of workflows/, as in production: the disagreement routes start and call the others."""


@pytest.fixture
def notice(engine: WorkflowEngine, world: World, routes: None) -> int:
    """A refusal to assess notified today: the disagreement route runs, waiting for contact with the adviser."""
    return engine.send_message(world.case_id, "appealable_decision_notified",
                               {"decision": "refuse_assess", "notice_sent_on": "2026-03-02"},
                               world.users["caseworker"])


def url(case_id: int, name: str) -> str:
    return f"/cases/{case_id}/messages/{name}"


def date_fields(name: str, day: date | str) -> list[tuple[str, str]]:
    if isinstance(day, str):
        d, m, y = day.split("/")
    else:
        d, m, y = str(day.day), str(day.month), str(day.year)
    return [(f"{name}-day", d), (f"{name}-month", m), (f"{name}-year", y)]


APPEAL = [*date_fields("registered_on", "27/2/2026"), *date_fields("sent_to_la_on", "2/3/2026"),
          ("section_i_only", "no"), ("tribunal_reference", "EH101/26/00077")]


def offered_names(services: Services, case_id: int, family: bool = False) -> list[str]:
    with services.session_factory() as s:
        case = s.get(Case, case_id)
        return [o.name for o in offered_messages(services.engine, s, case, family=family)]


def open_bpmn_ids(services: Services, case_id: int) -> set[str]:
    with services.session_factory() as s:
        return set(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == case_id,
                                                             HumanTask.status == "open")))


def messages_section(page: Any) -> Any:
    section = page.select_one("section[aria-labelledby=messages]")
    assert section is not None
    return section


def send(client: Client, case_id: int, name: str, fields: list[tuple[str, str]]) -> Any:
    """Fills in the form, checks the answers and confirms, as a person would."""
    confirm = client.post(url(case_id, name), [*fields, ("_action", "check")], status=200)
    page = soup(confirm)
    assert page.select_one("h1").get_text(strip=True) == "Check your answers"
    hidden = [(i["name"], i["value"]) for i in page.select("form input[type=hidden]") if i["name"] != "csrf_token"]
    return client.post(url(case_id, name), [*hidden, ("_action", "send")], status=302)


# ---- what is offered -------------------------------------------------------------------------------------------------

def test_only_what_a_running_route_waits_for_is_offered(services: Services, world: World, as_user: Any,
                                                        routes: None) -> None:
    # Nothing runs: only disagreement resolution, which starts a route of its own.
    assert offered_names(services, world.case_id) == ["drs_requested"]
    page = as_user("caseworker").page(f"/cases/{world.case_id}")
    section = messages_section(page)
    assert [a.get_text(strip=True) for a in section.select("a")] == ["Ask for disagreement resolution"]
    assert "starts Disagreement resolution service" in text_of(section)
    services.engine.send_message(world.case_id, "appealable_decision_notified",
                                 {"decision": "refuse_assess", "notice_sent_on": "2026-03-02"})
    # The adviser's step waits for an appeal registered without a certificate; its event sub-process takes
    # disagreement resolution; nothing takes a withdrawal or an Ombudsman complaint yet.
    assert offered_names(services, world.case_id) == ["appeal_registered", "drs_requested"]
    page = as_user("caseworker").page(f"/cases/{world.case_id}")
    links = {a.get_text(strip=True): a["href"] for a in messages_section(page).select("a")}
    assert links == {"Record an appeal the tribunal has registered": url(world.case_id, "appeal_registered"),
                     "Ask for disagreement resolution": url(world.case_id, "drs_requested")}
    assert "for Disagreement resolution, mediation and appeal" in text_of(messages_section(page))


def test_the_message_table_says_which_messages_a_family_may_send() -> None:
    assert {m.name for m in MESSAGES.values() if m.for_family} == {"drs_requested"}
    for message in MESSAGES.values():
        assert set(message.family_fields) <= set(message.schema["properties"])
        assert set(message.schema["required"]) <= set(message.schema["properties"])


# ---- appeal registered -------------------------------------------------------------------------------------------------

def test_recording_an_appeal_reaches_the_waiting_route(services: Services, world: World, as_user: Any,
                                                       notice: int) -> None:
    client = as_user("caseworker")
    form = client.page(url(world.case_id, "appeal_registered"))
    assert form.select_one("h1").get_text(strip=True) == "Record an appeal the tribunal has registered"
    assert [i["name"] for i in form.select("#field-registered_on input")] == [
        "registered_on-day", "registered_on-month", "registered_on-year"]
    assert [r["value"] for r in form.select("input[type=radio][name=section_i_only]")] == ["yes", "no"]
    assert form.select_one("input[name=tribunal_reference]") is not None
    assert "Waiting for this: Disagreement resolution, mediation and appeal." in text_of(form)

    confirm = soup(client.post(url(world.case_id, "appeal_registered"), [*APPEAL, ("_action", "check")], status=200))
    rows = {r.select_one("dt").get_text(strip=True): r.select_one("dd").get_text(strip=True)
            for r in confirm.select(".govuk-summary-list__row")}
    assert rows == {"Date the tribunal registered the appeal": "27 February 2026",
                    "Date the tribunal sent the appeal to the authority": "2 March 2026",
                    "Is the appeal only about the school or college named in section I (or that none is named)?": "No",
                    "Tribunal reference": "EH101/26/00077"}
    # Looking at the answers changes nothing yet.
    assert open_bpmn_ids(services, world.case_id) == {"UT_adviser_contact"}

    response = send(client, world.case_id, "appeal_registered", APPEAL)
    assert response.headers["Location"] == f"/cases/{world.case_id}#messages"
    page = client.page(f"/cases/{world.case_id}")
    assert "The appeal has been recorded. The route “Disagreement resolution, mediation and appeal” has been told." \
        in text_of(page)
    # The route went straight to the authority's response, 30 tribunal working days from Monday 2 March: 3-6 March
    # (4), 9-13 (9), 16-20 (14), 23-27 (19), 30 March-2 April (23), Good Friday and Easter Monday, 7-10 April (27),
    # 13-15 April (30): Wednesday 15 April.
    assert open_bpmn_ids(services, world.case_id) == {"UT_la_response"}
    assert open_task(services, world.case_id, "UT_la_response").due_date == date(2026, 4, 15)
    with services.session_factory() as s:
        sent = s.scalars(select(Message).where(Message.case_id == world.case_id,
                                               Message.name == "appeal_registered")).one()
        assert (sent.status, sent.instance_id, sent.sent_by_id) == ("delivered", notice, world.users["caseworker"].id)
        assert sent.payload == {"registered_on": "2026-02-27", "sent_to_la_on": "2026-03-02", "section_i_only": "no",
                                "tribunal_reference": "EH101/26/00077"}
        assert s.scalars(select(AuditEvent).where(AuditEvent.instance_id == notice,
                                                  AuditEvent.action == "message_received")).first() is not None
    # Now the route waits for a withdrawal, and no longer for an appeal.
    assert offered_names(services, world.case_id) == ["appeal_withdrawn", "drs_requested"]


@pytest.mark.parametrize(("fields", "errors"), [
    ([], {"registered_on": "Enter date the tribunal registered the appeal",
          "sent_to_la_on": "Enter date the tribunal sent the appeal to the authority",
          "section_i_only": None}),
    ([*date_fields("registered_on", "31/2/2026"), *date_fields("sent_to_la_on", "3/3/2026"), ("section_i_only", "no")],
     {"registered_on": "real date", "sent_to_la_on": "must be today or in the past"}),
    ([*date_fields("registered_on", "2/3/2026"), *date_fields("sent_to_la_on", "27/2/2026"), ("section_i_only", "no")],
     {"sent_to_la_on": "must be the same as or after the date it registered it"}),
    ([*date_fields("registered_on", "2//2026"), *date_fields("sent_to_la_on", "2/3/2026"), ("section_i_only", "no"),
      ("tribunal_reference", "x" * 101)],
     {"registered_on": "month", "tribunal_reference": "100 characters or fewer"}),
])
def test_appeal_form_errors_keep_everything_typed(services: Services, world: World, as_user: Any, notice: int,
                                                   fields: list[tuple[str, str]], errors: dict[str, str | None]
                                                   ) -> None:
    client = as_user("caseworker")
    page = soup(client.post(url(world.case_id, "appeal_registered"), [*fields, ("_action", "check")], status=200))
    assert page.select_one("title").get_text().startswith("Error:")
    summary = page.select_one(".govuk-error-summary")
    links = {a["href"].lstrip("#"): a.get_text(strip=True) for a in summary.select("a")}
    assert {href.removeprefix("field-").removesuffix("-day") for href in links} == set(errors)
    for name, expected in errors.items():
        message = next(text for href, text in links.items() if href.removeprefix("field-").startswith(name))
        if expected:
            assert expected in message, (name, message)
    # What was typed is still there, even a date that is not a real one.
    for name, value in fields:
        field = page.select_one(f"[name='{name}']:not([type=radio])") or page.select_one(
            f"input[name='{name}'][value='{value}']")
        assert field is not None and (field.get("checked") is not None or field.get("value", field.get_text()) == value)
    assert open_bpmn_ids(services, world.case_id) == {"UT_adviser_contact"}
    with services.session_factory() as s:
        assert s.scalars(select(Message).where(Message.name == "appeal_registered")).first() is None


def test_changing_the_answers_from_the_check_page_keeps_them(world: World, as_user: Any, notice: int) -> None:
    client = as_user("manager")
    confirm = soup(client.post(url(world.case_id, "appeal_registered"), [*APPEAL, ("_action", "check")], status=200))
    hidden = [(i["name"], i["value"]) for i in confirm.select("form input[type=hidden]") if i["name"] != "csrf_token"]
    form = soup(client.post(url(world.case_id, "appeal_registered"), [*hidden, ("_action", "change")], status=200))
    assert form.select_one("input[name=registered_on-day]")["value"] == "27"
    assert form.select_one("input[name=section_i_only][value=no]").has_attr("checked")
    assert form.select_one("input[name=tribunal_reference]")["value"] == "EH101/26/00077"


def test_a_message_sent_without_confirming_or_without_a_token_changes_nothing(services: Services, world: World,
                                                                            as_user: Any, notice: int) -> None:
    client = as_user("caseworker")
    response = client.post(url(world.case_id, "appeal_registered"), APPEAL, token=False)
    assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True)
    # The first post only ever leads to the check page.
    client.post(url(world.case_id, "appeal_registered"), APPEAL, status=200)
    assert open_bpmn_ids(services, world.case_id) == {"UT_adviser_contact"}


# ---- appeal withdrawn ------------------------------------------------------------------------------------------------

def test_recording_a_withdrawal_closes_the_appeal(services: Services, world: World, as_user: Any,
                                                  notice: int) -> None:
    client = as_user("caseworker")
    # Nothing waits for a withdrawal before an appeal is registered: back to the case, with why.
    response = client.get(url(world.case_id, "appeal_withdrawn"), status=302)
    assert response.headers["Location"] == f"/cases/{world.case_id}#messages"
    assert "Nothing on this case is waiting for this" in text_of(client.page(f"/cases/{world.case_id}"))
    send(client, world.case_id, "appeal_registered", APPEAL)

    future = soup(client.post(url(world.case_id, "appeal_withdrawn"),
                              [*date_fields("withdrawn_on", "3/3/2026"), ("_action", "check")], status=200))
    assert "Date the appeal was withdrawn must be today or in the past" in text_of(future.select_one(
        ".govuk-error-summary"))
    assert future.select_one("input[name=withdrawn_on-day]")["value"] == "3"
    send(client, world.case_id, "appeal_withdrawn", date_fields("withdrawn_on", "2/3/2026"))
    with services.session_factory() as s:
        assert s.get(ProcessInstance, notice).status == "completed"
        response_due = s.scalars(select(Deadline).where(Deadline.case_id == world.case_id,
                                                        Deadline.key == "tribunal_response")).one()
        assert response_due.status == "cancelled"
        sent = s.scalars(select(Message).where(Message.name == "appeal_withdrawn")).one()
        assert sent.payload == {"withdrawn_on": "2026-03-02"}
    assert "The withdrawal has been recorded" in text_of(client.page(f"/cases/{world.case_id}"))


# ---- disagreement resolution -----------------------------------------------------------------------------------------

def test_disagreement_resolution_starts_its_own_route_when_no_disagreement_runs(services: Services, world: World,
                                                                               as_user: Any, routes: None) -> None:
    client = as_user("caseworker")
    form = client.page(url(world.case_id, "drs_requested"))
    assert "This starts the route “Disagreement resolution service” on the case." in text_of(form)
    errors = soup(client.post(url(world.case_id, "drs_requested"), [("about", "  "), ("_action", "check")],
                              status=200))
    assert {a["href"] for a in errors.select(".govuk-error-summary a")} == {
        "#field-about", "#field-requested_on-day", "#field-requested_by"}
    send(client, world.case_id, "drs_requested", [("about", "Support at school"),
                                                  *date_fields("requested_on", "27/2/2026"),
                                                  ("requested_by", "setting")])
    with services.session_factory() as s:
        instance = s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == world.case_id)).one()
        assert instance.process_id == "disagreement_resolution_service"
        assert instance.started_by_id == world.users["caseworker"].id
        wf = services.engine.load_workflow(instance)
    assert open_bpmn_ids(services, world.case_id) == {"UT_drs_arrange"}
    ready = [t for t in wf.get_tasks() if t.task_spec.name == "UT_drs_arrange"][0]
    assert ready.data["drs_request"] == {"about": "Support at school", "requested_on": "2026-02-27",
                                         "requested_by": "setting"}
    assert "Disagreement resolution has been asked for. The route “Disagreement resolution service” has started." \
        in text_of(client.page(f"/cases/{world.case_id}"))


def test_disagreement_resolution_during_a_disagreement_goes_to_that_route(services: Services, world: World,
                                                                          as_user: Any, notice: int) -> None:
    send(as_user("manager"), world.case_id, "drs_requested", [("about", "The decision"),
                                                             *date_fields("requested_on", "2/3/2026"),
                                                             ("requested_by", "family")])
    assert open_bpmn_ids(services, world.case_id) == {"UT_adviser_contact", "UT_drs_arrange"}
    with services.session_factory() as s:
        assert [i.id for i in s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == world.case_id))] == [
            notice]


# ---- Ombudsman ---------------------------------------------------------------------------------------------------------

def complaint_answered(services: Services, world: World) -> int:
    engine = services.engine
    iid = engine.start(world.case_id, "complaint", actor=world.users["caseworker"])
    for bpmn_id, data, user in [
        ("UT_record_complaint", {"received_on": "2026-03-02", "complainant": "parent", "complainant_name": "Jo Taylor",
                                 "complainant_aged_18_or_over": "no", "about": "childrens_social_care",
                                 "complaint_summary": "No short breaks"}, "caseworker"),
        ("UT_appoint_independent_person", {"independent_person": "Pat Doyle", "appointed_on": "2026-03-02"},
         "socialcare"),
        ("UT_social_care_response", {"complaint_outcome": "partly_upheld", "findings": "Delay",
                                     "remedy": "Short breaks from April"}, "socialcare"),
    ]:
        engine.complete_task(open_task(services, world.case_id, bpmn_id).id, data, world.users[user])
    return iid


def test_recording_a_complaint_to_the_ombudsman_opens_the_enquiries_task(services: Services, world: World,
                                                                         as_user: Any, routes: None) -> None:
    complaint_answered(services, world)
    assert offered_names(services, world.case_id) == ["drs_requested", "ombudsman_complaint"]
    client = as_user("caseworker")
    missing = soup(client.post(url(world.case_id, "ombudsman_complaint"),
                               [*date_fields("reply_by", "30/6/"), ("_action", "check")], status=200))
    assert "must include a year" in text_of(missing.select_one(".govuk-error-summary"))
    # The date the Ombudsman set is in the future, and may be.
    send(client, world.case_id, "ombudsman_complaint", date_fields("reply_by", "30/6/2026"))
    assert open_task(services, world.case_id, "UT_ombudsman_enquiries").due_date == date(2026, 6, 30)
    assert "ombudsman_complaint" not in offered_names(services, world.case_id)


# ---- who may ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("user", "status"), [
    ("other_caseworker", 404), ("other_manager", 404),  # another authority's case does not exist for them
    ("health", 403), ("school", 403), ("mediation", 403),  # on the case, but not the authority
    ("ep", 403), ("socialcare", 403), ("admin", 403), ("processowner", 403),  # the authority, not its casework
    ("parent", 403),  # the family never uses the staff pages
])
def test_only_the_responsible_authoritys_caseworkers_and_managers_send_messages(services: Services, world: World,
                                                                                as_user: Any, notice: int,
                                                                                user: str, status: int) -> None:
    client = as_user(user)
    client.get(url(world.case_id, "appeal_registered"), status=status)
    client.post(url(world.case_id, "appeal_registered"), [*APPEAL, ("_action", "send")], status=status)
    assert open_bpmn_ids(services, world.case_id) == {"UT_adviser_contact"}
    if status == 403 and user != "parent":
        assert client.page(f"/cases/{world.case_id}").select_one("#messages") is None


def test_another_authority_sends_messages_on_its_own_case_only(services: Services, world: World, as_user: Any,
                                                               routes: None) -> None:
    client = as_user("other_caseworker")
    client.get(url(world.other_case_id, "drs_requested"), status=200)
    client.get(url(world.case_id, "drs_requested"), status=404)
    client.get(url(world.other_case_id, "no_such_message"), status=404)


def test_the_engine_refuses_a_sender_who_may_not_and_answers_that_are_wrong(services: Services, world: World,
                                                                            notice: int) -> None:
    from engine.casework.case_messages import send_message
    from engine.errors import FormInvalid, InvalidState, NotAllowed

    engine = services.engine
    payload = {"registered_on": "2026-02-27", "sent_to_la_on": "2026-03-02", "section_i_only": "no"}
    for user in ("school", "ep", "other_caseworker", "parent"):
        with pytest.raises(NotAllowed):
            send_message(engine, world.case_id, "appeal_registered", payload, world.users[user])
    with pytest.raises(FormInvalid) as invalid:
        send_message(engine, world.case_id, "appeal_registered", {**payload, "extra": "x"}, world.users["caseworker"])
    assert "extra" in invalid.value.errors
    with pytest.raises(InvalidState):
        send_message(engine, world.case_id, "appeal_withdrawn", {"withdrawn_on": "2026-03-02"},
                     world.users["caseworker"])
    assert check_payload(MESSAGES["appeal_withdrawn"], {"withdrawn_on": "2026-03-03"}, date(2026, 3, 2)) == {
        "withdrawn_on": "Date the appeal was withdrawn must be today or in the past"}
    assert send_message(engine, world.case_id, "appeal_registered", payload, world.users["manager"]) == notice


# ---- escaping --------------------------------------------------------------------------------------------------------

def test_what_is_typed_is_shown_as_text(services: Services, world: World, as_user: Any, notice: int) -> None:
    script = "<script>alert('x')</script>"
    with services.session_factory() as s:
        s.get(Case, world.case_id).child_first_name = script
        s.commit()
    client = as_user("caseworker")
    for page_url in (f"/cases/{world.case_id}", url(world.case_id, "appeal_registered")):
        body = client.get(page_url).get_data(as_text=True)
        assert script not in body and "&lt;script&gt;" in body, page_url
    family = as_user("parent").get(family_url(world.case_id)).get_data(as_text=True)
    assert script not in family and "&lt;script&gt;" in family
    fields = [*APPEAL[:-1], ("tribunal_reference", script)]
    confirm = client.post(url(world.case_id, "appeal_registered"), [*fields, ("_action", "check")], status=200)
    body = confirm.get_data(as_text=True)
    assert script not in body and "&lt;script&gt;" in body
    assert soup(confirm).select("script[src]") == soup(confirm).select("script")  # only the app's own files
    errors = client.post(url(world.case_id, "drs_requested"), [("about", script), ("_action", "check")], status=200)
    assert script not in errors.get_data(as_text=True)
    assert soup(errors).select_one("textarea[name=about]").get_text() == script
    # Carried through the check page in hidden fields, it reaches the route exactly as typed.
    quoted = '"><b>' + script
    send(client, world.case_id, "appeal_registered", [*APPEAL[:-1], ("tribunal_reference", quoted)])
    with services.session_factory() as s:
        sent = s.scalars(select(Message).where(Message.name == "appeal_registered")).one()
        assert sent.payload["tribunal_reference"] == quoted


# ---- the family ------------------------------------------------------------------------------------------------------

def family_url(case_id: int) -> str:
    return f"/family/cases/{case_id}/disagreement-resolution"


def test_a_family_asks_for_disagreement_resolution_on_its_own_case(services: Services, world: World, as_user: Any,
                                                                   routes: None) -> None:
    parent = as_user("parent")
    page = parent.page(f"/family/cases/{world.case_id}")
    link = page.select_one("#disagreement-resolution ~ p a")
    assert link["href"] == family_url(world.case_id)
    form = parent.page(family_url(world.case_id))
    # The family says only what it is about: the date and who asked are theirs, today.
    assert [f["name"] for f in form.select("form input:not([type=hidden]), form textarea")] == ["about"]
    assert "Disagreement resolution service" not in text_of(form)
    empty = soup(parent.post(family_url(world.case_id), [("about", ""), ("_action", "check")], status=200))
    assert [a["href"] for a in empty.select(".govuk-error-summary a")] == ["#field-about"]
    confirm = soup(parent.post(family_url(world.case_id), [("about", "The school named"), ("_action", "check")],
                               status=200))
    hidden = [(i["name"], i["value"]) for i in confirm.select("form input[type=hidden]") if i["name"] != "csrf_token"]
    assert hidden == [("about", "The school named")]
    response = parent.post(family_url(world.case_id), [*hidden, ("_action", "send")], status=302)
    assert response.headers["Location"] == f"/family/cases/{world.case_id}"
    assert "Your request for disagreement resolution has been sent" in text_of(
        parent.page(f"/family/cases/{world.case_id}"))
    with services.session_factory() as s:
        sent = s.scalars(select(Message).where(Message.name == "drs_requested")).one()
        assert sent.payload == {"about": "The school named", "requested_on": "2026-03-02", "requested_by": "family"}
        assert sent.sent_by_id == world.users["parent"].id
    assert open_bpmn_ids(services, world.case_id) == {"UT_drs_arrange"}


def test_a_family_cannot_ask_on_another_familys_case(services: Services, world: World, as_user: Any,
                                                     routes: None) -> None:
    parent = as_user("parent")
    parent.get(family_url(world.other_case_id), status=404)
    parent.post(family_url(world.other_case_id), [("about", "x"), ("_action", "send")], status=404)
    as_user("caseworker").get(family_url(world.case_id), status=403)
    with services.session_factory() as s:
        assert s.scalars(select(ProcessInstance)).first() is None
        assert s.scalars(select(Message)).first() is None
    with services.session_factory() as s:
        from engine.casework.case_messages import send_message
        from engine.errors import NotAllowed

        with pytest.raises(NotAllowed):
            send_message(services.engine, world.other_case_id, "drs_requested",
                         {"about": "x", "requested_on": "2026-03-02", "requested_by": "family"},
                         s.get(type(world.users["parent"]), world.users["parent"].id))


def test_a_family_is_not_offered_what_is_only_for_staff(services: Services, world: World, notice: int) -> None:
    assert offered_names(services, world.case_id, family=True) == ["drs_requested"]


def test_a_route_that_moved_on_while_the_form_was_open_gets_nothing_and_the_answers_stay(
        services: Services, world: World, as_user: Any, notice: int) -> None:
    client = as_user("caseworker")
    confirm = soup(client.post(url(world.case_id, "appeal_registered"), [*APPEAL, ("_action", "check")], status=200))
    hidden = [(i["name"], i["value"]) for i in confirm.select("form input[type=hidden]") if i["name"] != "csrf_token"]
    # Meanwhile the adviser records the family's contact: the route no longer waits for an appeal without a certificate.
    services.engine.complete_task(open_task(services, world.case_id, "UT_adviser_contact").id,
                                  {"contacted_on": "2026-03-02", "wants_mediation": "no"}, world.users["mediation"])
    page = soup(client.post(url(world.case_id, "appeal_registered"), [*hidden, ("_action", "send")], status=200))
    assert "the route has moved on. Nothing was sent." in text_of(page.select_one(".govuk-error-summary"))
    assert page.select_one("input[name=tribunal_reference]")["value"] == "EH101/26/00077"
    with services.session_factory() as s:
        assert s.scalars(select(Message).where(Message.name == "appeal_registered")).first() is None
