"""Need to know: who may read each document on a case (issue 15).

The responsible authority reads every document; the family what was sent to them or about them; a school, health
body or service what was sent to it or that it wrote, and advice the family agreed (on the request for the
assessment) to share with it. The document page, its download, the case page's list and the family's pages follow
the same rule (engine.people.access.may_see_document); the authorization matrix has a row per audience.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.casework.documents import DocumentTemplate, audience_for
from engine.people.access import advice_shared_with, audience_from_recipients, may_see_document
from engine.runtime.services import Services
from engine.store.models import Case, Document, User
from engine.store.requests import AssessmentRequest
from tests.conftest import World
from tests.web.conftest import text_of

LETTER = "A letter to the parent"
ADVICE = "Social care advice"
TO_SCHOOL = "A consultation with the school"


def add_with_audience(services: Services, case_id: int, title: str, audience: list[str] | None,
                      recipients: list[dict[str, Any]] | None = None) -> int:
    with services.session_factory() as s:
        doc = Document(case_id=case_id, kind="test_notice", title=title, body_html=f"<article><p>{title}</p></article>",
                       recipients=recipients if recipients is not None else [{"role": "parent"}], appealable=False,
                       issued_at=services.engine.clock.now(), audience=audience)
        s.add(doc)
        s.commit()
        return doc.id


def record_consent(services: Services, case_id: int, share_with: str, consent: str = "yes") -> None:
    """The family's answers on the request that opened the case: consent to share, and who may read advice."""
    with services.session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        now = services.engine.clock.now()
        s.add(AssessmentRequest(la_id=case.la_id, status="registered", answers={
            "consent_to_share": consent, "share_advice_with": share_with}, created_at=now, updated_at=now,
            case_id=case_id))
        s.commit()


def audience_documents(services: Services, world: World, case_id: int) -> dict[str, int]:
    """A letter to the parent, social care's advice (shared with health by the family's consent) and a letter to
    the school, on the case: the variants of the matrix's document rows."""
    record_consent(services, case_id, "health_body")
    school = f"org:{world.school.id}"
    return {
        "letter": add_with_audience(services, case_id, LETTER, ["family", "la"]),
        "advice": add_with_audience(services, case_id, ADVICE, ["advice", "family", "la", "role:social_care"]),
        "to_school": add_with_audience(services, case_id, TO_SCHOOL, ["la", school],
                                       [{"role": "setting", "organisation_id": world.school.id}]),
    }


def test_each_reader_sees_the_documents_meant_for_them(services: Services, world: World, as_user: Any) -> None:
    ids = audience_documents(services, world, world.case_id)
    expected = {  # who may read which, on the staff pages
        "caseworker": {"letter", "advice", "to_school"}, "manager": {"letter", "advice", "to_school"},
        "school": {"to_school"}, "health": {"advice"}, "socialcare": {"advice"}, "ep": set(), "mediation": set(),
    }
    for user, allowed in expected.items():
        client = as_user(user)
        listed = text_of(client.page(f"/cases/{world.case_id}"))
        for key, doc_id in ids.items():
            status = 200 if key in allowed else 403
            client.get(f"/cases/{world.case_id}/documents/{doc_id}", status=status)
            client.get(f"/cases/{world.case_id}/documents/{doc_id}/download", status=status)
            title = {"letter": LETTER, "advice": ADVICE, "to_school": TO_SCHOOL}[key]
            assert (title in listed) == (key in allowed), (user, key)
    parent = as_user("parent")
    listed = text_of(parent.page(f"/family/cases/{world.case_id}"))
    assert LETTER in listed and ADVICE in listed and TO_SCHOOL not in listed
    parent.get(f"/family/cases/{world.case_id}/documents/{ids['letter']}/download")
    parent.get(f"/family/cases/{world.case_id}/documents/{ids['advice']}")
    parent.get(f"/family/cases/{world.case_id}/documents/{ids['to_school']}", status=404)
    parent.get(f"/family/cases/{world.case_id}/documents/{ids['to_school']}/download", status=404)


def test_consent_decides_who_else_reads_advice(services: Services, world: World) -> None:
    """Consent is read when the document is asked for: withdrawn (consent_to_share "no") it shuts health out again;
    given to everyone it lets the school in; never given, advice stays with the LA, the family and its author."""
    advice = add_with_audience(services, world.case_id, ADVICE, ["advice", "family", "la", "role:social_care"])
    with services.session_factory() as s:
        case, document = s.get(Case, world.case_id), s.get(Document, advice)
        health, school = s.get(User, world.users["health"].id), s.get(User, world.users["school"].id)
        assert case and document and health and school
        assert advice_shared_with(s, case) == set()
        assert not may_see_document(s, health, case, document)
    record_consent(services, world.case_id, "all")
    with services.session_factory() as s:
        case, document = s.get(Case, world.case_id), s.get(Document, advice)
        school = s.get(User, world.users["school"].id)
        assert advice_shared_with(s, case) == {f"org:{world.school.id}", f"org:{world.health.id}", "role:social_care"}
        assert may_see_document(s, school, case, document)
    record_consent(services, world.case_id, "all", consent="no")  # the latest answer counts
    with services.session_factory() as s:
        case, document = s.get(Case, world.case_id), s.get(Document, advice)
        school = s.get(User, world.users["school"].id)
        assert advice_shared_with(s, case) == set()
        assert not may_see_document(s, school, case, document)


def test_a_documents_audience_comes_from_its_recipients_and_author(services: Services, world: World) -> None:
    """A notice to the family copied to the school and the LA's social care; the school wrote it."""
    recipients = [{"role": "parent", "user_id": world.users["parent"].id},
                  {"role": "setting", "organisation_id": world.school.id, "copy": True},
                  {"role": "social_care", "organisation_id": world.la.id, "copy": True},
                  {"role": "tribunal", "organisation_id": None}]
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        assert audience_from_recipients(recipients, case.la_id) == {
            "la", "family", f"org:{world.school.id}", "role:social_care"}
        # Sent to the health body only: not the family's.
        assert audience_from_recipients([{"role": "health_body", "organisation_id": world.health.id}],
                                        case.la_id) == {"la", f"org:{world.health.id}"}
        advice = DocumentTemplate("t", ("health",), advice=True)
        assert audience_for(advice, case, [{"role": "health_body", "organisation_id": world.health.id}],
                            {f"org:{world.health.id}"}) == ["advice", "family", "la", f"org:{world.health.id}"]


def test_an_issued_notice_records_its_audience(services: Services, world: World,
                                              request: pytest.FixtureRequest) -> None:
    """The real assessment route, registered on Monday 2 March 2026: "considering an assessment" goes to the family
    (LA + family), the partner notification to health, the LA's social care and the school (not the family); the
    caseworker who registered it is the LA already. The school reads its notification, not the family's letter."""
    from engine.library.registry import ProcessRegistry
    from tests.conftest import ROOT
    from tests.workflows.test_needs_assessment import FILES, PLAN_DRAFTING, Route, register, utc

    services.engine.deploy(ProcessRegistry.from_files([*FILES, PLAN_DRAFTING], ROOT / "forms"))
    route = Route(services, world, request.node.name)
    route.start(utc(2026, 3, 2, 10))
    register(route, utc(2026, 3, 2, 10, 30))
    considering, partners = route.documents()
    assert considering.audience == ["family", "la"]
    assert partners.audience == sorted(["la", f"org:{world.health.id}", f"org:{world.school.id}", "role:social_care"])
    with services.session_factory() as s:
        case, school = s.get(Case, world.case_id), s.get(User, world.users["school"].id)
        parent = s.get(User, world.users["parent"].id)
        letter, notification = s.get(Document, considering.id), s.get(Document, partners.id)
        assert case and school and parent and letter and notification
        assert may_see_document(s, school, case, notification) and not may_see_document(s, school, case, letter)
        assert may_see_document(s, parent, case, letter, as_family=True)
        assert not may_see_document(s, parent, case, notification, as_family=True)


def test_a_done_advice_task_is_read_only_by_whom_it_concerns(services: Services, world: World, started: int,
                                                              as_user: Any) -> None:
    """Social care's advice given through a task form: its writer and the authority read the answers; a school or
    health body that could see the case does not, until the family agrees to share advice with health."""
    from engine.people.roles import Role
    from engine.store.models import HumanTask
    from tests.web.conftest import open_task

    task_id = open_task(services, world.case_id, "UT_record").id
    with services.session_factory() as s:
        task = s.get(HumanTask, task_id)
        assert task is not None
        task.role, task.organisation_id, task.status = Role.SOCIAL_CARE.value, world.la.id, "completed"
        task.completed_by_id, task.submitted_data = world.users["socialcare"].id, {"concern": "Private advice"}
        s.commit()
    for who, status in (("caseworker", 200), ("socialcare", 200), ("school", 403), ("health", 403)):
        page = as_user(who).get(f"/tasks/{task_id}", status=status)
        assert ("Private advice" in page.text) == (status == 200), who
    record_consent(services, world.case_id, "health_body")
    assert "Private advice" in as_user("health").get(f"/tasks/{task_id}", status=200).text
    as_user("school").get(f"/tasks/{task_id}", status=403)
