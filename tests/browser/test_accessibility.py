"""Every main page of every role, in a real browser at 320 px (a phone, WCAG 2.2 reflow) and 1280 px (a laptop):
nothing scrolls sideways, and axe-core (from npm, run in the page) finds no serious or critical violation of
WCAG 2.x A and AA (issue 17, point 8 and Tests; issue 18, WCAG 2.2 AA).

Each page is loaded once, checked at 320 px, then the window is widened to 1280 px and checked again: one test per
list of pages, with every problem of every page in one failure message. With EHCFLOW_SCREENSHOTS=1 the pages given
with a name are also saved at 390 px and 1280 px in docs/screenshots/ (docs/web-ui.md, Accessibility).
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from engine.local_offer import comments, entries, proposals
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.store.models import CaseParty, HumanTask, ProcessInstance, ProcessVersion
from tests.browser.conftest import DATA, ROOT, SCREENSHOTS, LiveServer
from tests.browser.test_journey import fast_password_hashing, sign_in  # noqa: F401 - fixture used by every test
from tests.browser.test_reveal_and_reflow import WIDEST
from tests.conftest import PASSWORD, deploy_files
from tests.web.test_cases import ADVICE, DRAFT, add_document

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (320, 1280)
# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe tags no 2.2 rule at level A).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# GOV.UK Frontend's conditional reveal sets aria-expanded on the radio or checkbox that reveals the follow-up: not
# allowed on those roles by ARIA 1.2, but kept on purpose because screen readers announce it (alphagov/govuk-frontend
# issue 979, a documented known issue), so that one finding is left out; any other attribute still fails.
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  const onlyExpanded = n => n.all.concat(n.any, n.none)
    .every(c => ((c.data && c.data.values) || []).every(a => a.startsWith('aria-expanded=')));
  const reveals = n => document.querySelector(n.target[0])
    .matches('.govuk-radios__input[aria-controls], .govuk-checkboxes__input[aria-controls]');
  for (const v of result.violations) {
    if (v.id === 'aria-allowed-attr') v.nodes = v.nodes.filter(n => !(onlyExpanded(n) && reveals(n)));
  }
  return result.violations.filter(v => v.nodes.length && (v.impact === 'serious' || v.impact === 'critical'))
    .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at '
         + v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + n.html.slice(0, 160)).join(', '));
}"""
SHOT_WIDTHS = (390, 1280)  # a common phone, and a laptop


class Checker:
    """Loads pages in one tab and collects, for all of them, what is wrong at each width."""

    def __init__(self, new_page: Any, server: LiveServer) -> None:
        self.server = server
        self.page = new_page(viewport={"width": WIDTHS[0], "height": 800})
        # axe-core goes into every page as it opens: quicker than a script tag per page, and the app's content
        # security policy (no inline scripts) stays as it is for the page itself.
        self.page.context.add_init_script(path=str(AXE))
        self.problems: list[str] = []

    def sign_in(self, key: str) -> None:
        self.page.context.clear_cookies()
        sign_in(self.page, self.server, key)
        assert "/sign-in" not in self.page.url, f"{key} could not sign in"

    def check(self, who: str, *paths: str | tuple[str, str]) -> None:
        """Each path, or (path, name): a page also kept in docs/screenshots/ as <name>-390.png and <name>-1280.png
        when EHCFLOW_SCREENSHOTS=1."""
        for item in paths:
            path, name = item if isinstance(item, tuple) else (item, None)
            self.page.set_viewport_size({"width": WIDTHS[0], "height": 800})
            response = self.page.goto(self.server.url + path)
            status = response.status if response is not None else None
            if status != 200:
                self.problems.append(f"{who} {path}: HTTP {status}")
                continue
            self.check_current(who, path, name)

    def check_current(self, who: str, label: str, screenshot: str | None = None) -> None:
        """Checks the page the tab is on, at each width (a page reached by a form is checked this way)."""
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 800})
            where = f"{who} {label} at {width} px"
            scroll = self.page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                self.problems.append(f"{where}: {scroll} px wide: {self.page.evaluate(WIDEST)}")
            self.problems.extend(f"{where}: {v}" for v in self.page.evaluate(RUN_AXE, TAGS))
        if screenshot and os.environ.get("EHCFLOW_SCREENSHOTS") == "1":
            for width in SHOT_WIDTHS:
                self.page.set_viewport_size({"width": width, "height": 800})
                self.page.screenshot(path=str(SCREENSHOTS / f"{screenshot}-{width}.png"), full_page=True)

    def assert_none(self) -> None:
        assert not self.problems, f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


@pytest.fixture
def checker(live_server: LiveServer, new_page: Any) -> Checker:
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run scripts/bootstrap.sh (npm ci installs axe-core)")
    return Checker(new_page, live_server)


def _task(server: LiveServer, bpmn_id: str) -> int:
    with server.services.session_factory() as s:
        return s.scalars(select(HumanTask.id).where(HumanTask.bpmn_id == bpmn_id)).first()


def _start_routes(server: LiveServer) -> dict[str, int]:
    """The test route and the reveal route (a form with conditional follow-ups) running on the World's case."""
    deploy_files(server.services.engine, [DATA / "reveal_route.bpmn"], ROOT / "forms")
    engine = server.services.engine
    engine.start(server.world.case_id, "web_route")
    engine.start(server.world.case_id, "reveal_route")
    with server.services.session_factory() as s:
        instance = s.scalars(select(ProcessInstance.id)).first()
        version = s.scalars(select(ProcessVersion.id)).first()
    return {"record": _task(server, "UT_record"), "reveal": _task(server, "UT_decide_assess"),
            "instance": instance, "version": version}


ENTRY: dict[str, Any] = {
    "title": "Speech and language therapy", "category": "health", "needs": ["communication_interaction"],
    "age_from": "0", "age_to": "18", "area": "North", "offers": "Therapy for children who stammer",
    "who_for": "Children", "eligibility": "A referral", "how_to_access": "Ask your GP",
    "contact_name": "SLT team", "contact_email": "slt@nhs.example", "contact_phone": "01234 567890",
    "website": "https://slt.example", "opening_hours": "9 to 5", "cost": "Free", "status": "published"}


def _plan_and_letter(server: LiveServer) -> dict[str, int]:
    """Two drafts of the plan (the second changes section A: a page of changes) and a letter sent to the parent."""
    from engine.casework import plans

    case_id, now = server.world.case_id, server.services.engine.clock.now()
    with server.services.session_factory() as s:
        plans.create_draft(s, case_id, DRAFT, now=now, advice=ADVICE)
        second = plans.new_draft_version(s, case_id, {"section_a": {"views": "Alex loves trains and buses.",
                                                                     "aspirations": "To read."}}, now=now)
        s.commit()
        plan = second.id
    return {"plan": plan, "letter": add_document(server.services, case_id, "Decision to assess", [{"role": "parent"}])}


def _local_offer(server: LiveServer) -> dict[str, int]:
    """A published entry provided by the World's health body, with a change it proposed, and two comments: one
    published with the council's response, one waiting."""
    world, clock = server.world, server.services.engine.clock
    data = {**ENTRY, "provider_id": str(world.health.id)}
    with server.services.session_factory() as s:
        # Checked more than a year ago, so that it is on the editor's review list too.
        entry = entries.save_entry(s, world.la.id, data, clock.now(), date(2020, 1, 6), None)
        proposal = proposals.propose(s, entry, world.health.id, {**data, "offers": "Therapy and groups"},
                                     clock.now(), world.users["health"].id)
        published = comments.submit_comment(s, world.la.id, "Please list more holiday clubs for teenagers.",
                                            "k1", clock.now(), 10)
        comments.moderate(s, published, "publish", published.text, "We have added six.", "Added to the list.",
                          clock.now(), None)
        waiting = comments.submit_comment(s, world.la.id, "The transport page is hard to find.", "k2",
                                          clock.now(), 10)
        editor = create_user(s, "editor@test.example", "Lo Editor", PASSWORD, clock,
                             [(world.la, Role.LOCAL_OFFER_EDITOR)])
        s.commit()
        server.world.users["editor"] = editor
        return {"entry": entry.id, "proposal": proposal.id, "comment": waiting.id}


def _charity(server: LiveServer, entry: dict[str, Any]) -> int:
    """A charity with a Local Offer provider's account (no case work), providing an entry of its own."""
    world, clock = server.world, server.services.engine.clock
    with server.services.session_factory() as s:
        charity = create_organisation(s, "Shires Parent Carers", "voluntary_provider", clock)
        world.users["charity"] = create_user(s, "volunteer@charity.example", "Pat Lewis", PASSWORD, clock,
                                             [(charity, Role.LOCAL_OFFER_PROVIDER)])
        row = entries.save_entry(s, world.la.id, {**entry, "title": "Parent carer forum", "category": "parent_carer_support",
                                                  "provider_id": str(charity.id)}, clock.now(), clock.today(), None)
        s.commit()
        return row.id


def _young_person(server: LiveServer) -> int:
    """A case whose child is now a young person (past compulsory school age), with their own account."""
    world, engine = server.world, server.services.engine
    with server.services.session_factory() as s:
        case = engine.open_case(s, world.la.id, "Sam", "Okoro", "2005-06-01")
        person = create_user(s, "sam.okoro@test.example", "Sam Okoro", PASSWORD, engine.clock, [(None, Role.FAMILY)])
        s.add(CaseParty(case_id=case.id, role="family", user_id=person.id, relationship_to_child="young person"))
        s.commit()
        world.users["youngperson"] = person
        return case.id


def test_the_checks_find_a_page_too_wide_and_text_too_faint(checker: Checker, live_server: LiveServer) -> None:
    """The checker itself: a page made wider than a phone, with pale grey text, is reported at the right widths."""
    checker.page.goto(live_server.url + "/cookies")
    checker.page.evaluate("""() => {
      const p = document.createElement('p');
      p.textContent = 'Pale text in a paragraph 1000 px wide';
      p.style.cssText = 'color: #bbbbbb; width: 1000px';
      document.querySelector('main').appendChild(p);
    }""")
    checker.check_current("test", "/cookies")
    assert [p.split(":")[0] for p in checker.problems] == [
        "test /cookies at 320 px", "test /cookies at 320 px", "test /cookies at 1280 px"], checker.problems
    assert "px wide: ['p. " in checker.problems[0]  # names the element that is too wide
    assert all("color-contrast" in p for p in checker.problems[1:])


def test_signed_out_pages(checker: Checker, live_server: LiveServer) -> None:
    lo = _local_offer(live_server)
    checker.check("signed out", ("/", "home"), "/sign-in", "/accessibility", "/cookies", "/local-offer/",
                  ("/local-offer/TST/", "local-offer-directory"), "/local-offer/TST/?q=unicorns&age=%3Cb%3E",
                  f"/local-offer/TST/entries/{lo['entry']}", "/local-offer/TST/pages/request-an-assessment",
                  "/local-offer/TST/comment", "/local-offer/TST/you-said-we-did",
                  ("/request-an-assessment/?la=TST", "request-start"))
    # The online request's first question, and the same page with its errors.
    with checker.page.expect_navigation():
        checker.page.get_by_role("button", name="Start now").click()
    checker.check_current("signed out", "the request's first question")
    with checker.page.expect_navigation():
        checker.page.get_by_role("button", name="Continue").click()
    assert checker.page.locator(".govuk-error-summary").is_visible()
    checker.check_current("signed out", "the request's first question with errors")
    checker.assert_none()


def test_la_staff_pages(checker: Checker, live_server: LiveServer) -> None:
    ids = _start_routes(live_server) | _plan_and_letter(live_server)
    case = live_server.world.case_id
    checker.sign_in("caseworker")
    checker.check("caseworker", ("/tasks/", "caseworker-tasks"), "/tasks/team", f"/tasks/{ids['record']}",
                  f"/tasks/{ids['reveal']}", "/cases/", "/cases/?q=taylor", (f"/cases/{case}", "case-page"),
                  f"/cases/{case}/timeline", f"/cases/{case}/contact-log", f"/cases/{case}/details",
                  f"/cases/{case}/organisations", f"/cases/{case}/named-parent", f"/cases/{case}/plans/{ids['plan']}",
                  f"/cases/{case}/plans/{ids['plan']}/changes", f"/cases/{case}/documents/{ids['letter']}",
                  "/intake/", "/intake/record", "/notices/", "/account", "/account/password")
    checker.sign_in("manager")
    checker.check("manager", "/tasks/team", f"/tasks/{ids['record']}/reassign", "/reports/", "/reports/timeliness",
                  "/reports/work-in-progress", "/reports/sen2")
    for key in ("ep", "socialcare"):
        checker.sign_in(key)
        checker.check(key, "/tasks/", "/cases/", f"/cases/{case}")
    checker.assert_none()


def test_partner_pages(checker: Checker, live_server: LiveServer) -> None:
    """Health, the school's SENCO and mediation: their tasks, the case they are on, SEN support, and the Local Offer
    entry the health body provides; and a charity's Local Offer provider with its own entry."""
    _start_routes(live_server)
    lo = _local_offer(live_server)
    case = live_server.world.case_id
    checker.sign_in("health")
    checker.check("health", "/tasks/", "/cases/", f"/cases/{case}", "/local-offer-provider/",
                  f"/local-offer-provider/entries/{lo['entry']}")
    checker.sign_in("school")
    checker.check("school", "/tasks/", "/cases/", f"/cases/{case}", "/sen-support/", "/local-offer-provider/")
    checker.sign_in("mediation")
    checker.check("mediation", "/tasks/", "/cases/", f"/cases/{case}")
    charity_entry = _charity(live_server, ENTRY)
    checker.sign_in("charity")
    checker.check("Local Offer provider", "/local-offer-provider/", f"/local-offer-provider/entries/{charity_entry}")
    checker.assert_none()


def test_admin_and_process_owner_pages(checker: Checker, live_server: LiveServer) -> None:
    ids = _start_routes(live_server)
    world = live_server.world
    checker.sign_in("admin")
    checker.check("admin", "/admin/", ("/admin/instances", "admin-instances"), "/admin/instances?status=running",
                  f"/admin/instances/{ids['instance']}",
                  "/admin/users", f"/admin/users/{world.users['caseworker'].id}", "/admin/users/new",
                  "/admin/organisations", f"/admin/organisations/{world.la.id}", "/admin/organisations/new",
                  "/admin/import-plans", "/admin/audit-export", f"/admin/cases/{world.case_id}/export")
    checker.sign_in("processowner")
    checker.check("processowner", "/routes/", f"/routes/versions/{ids['version']}", "/routes/upload",
                  f"/routes/versions/{ids['version']}/scenario")
    checker.assert_none()


def test_family_pages(checker: Checker, live_server: LiveServer) -> None:
    _start_routes(live_server)
    letter = _plan_and_letter(live_server)["letter"]
    case = live_server.world.case_id
    young_case = _young_person(live_server)
    # The caseworker's step done, the family's "Give your views" is waiting for the parent.
    live_server.services.engine.complete_task(
        _task(live_server, "UT_record"), {"concern": "Speech and language", "received_on": "2026-01-05",
                                          "request_from": "parent", "urgent": False},
        live_server.world.users["caseworker"])
    checker.sign_in("parent")
    checker.check("parent", "/family/", (f"/family/cases/{case}", "family-case-page"),
                  f"/tasks/{_task(live_server, 'UT_views')}", f"/family/cases/{case}/documents/{letter}")
    checker.sign_in("youngperson")
    checker.check("young person", "/family/", f"/family/cases/{young_case}",
                  f"/family/cases/{young_case}/parent-acting-for-you")
    checker.assert_none()


def test_local_offer_editor_pages(checker: Checker, live_server: LiveServer) -> None:
    # Opening a provider's change starts the LA's review of it, a route of its own.
    deploy_files(live_server.services.engine, [ROOT / "workflows" / "local_offer_review.bpmn"], ROOT / "forms")
    lo = _local_offer(live_server)
    checker.sign_in("editor")
    checker.check("editor", ("/local-offer-editor/", "local-offer-editor"), "/local-offer-editor/entries/new",
                  f"/local-offer-editor/entries/{lo['entry']}", "/local-offer-editor/review",
                  "/local-offer-editor/pages", "/local-offer-editor/pages/short-breaks-statement",
                  "/local-offer-editor/comments", f"/local-offer-editor/comments/{lo['comment']}",
                  "/local-offer-editor/changes", f"/local-offer-editor/changes/{lo['proposal']}")
    checker.assert_none()
