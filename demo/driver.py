"""What the demo seeders share: the demo password, the DemoContext they fill in, and the Driver that takes a demo case
through its routes on a clock moved forward from the past."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from engine.casework import plans
from engine.casework.setting_directory import describe_setting
from engine.library.sandbox import make_script_engine
from engine.library.script_functions import script_globals
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory import calendar
from engine.statutory.clock import FrozenClock
from engine.store.models import CaseParty, HumanTask, Organisation, User

DEMO_PASSWORD = "ehcflow-demo-2026"


@dataclass
class DemoContext:
    """What the demo created, for route seeders and for printing the sign-in details."""

    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    credentials: list[tuple[str, str, str]] = field(default_factory=list)


# A route's seeder starts its route on demo cases and drives it through the engine (never by writing rows directly),
# so the demo shows exactly what real use produces. Its ``process_id`` attribute names the route it needs deployed.
Seeder = Callable[[WorkflowEngine, DemoContext], None]


def catch_up(engine: WorkflowEngine) -> None:
    """Fires everything that fell due while a seeder's clock ran in the past, batch after batch, as the timer worker
    does after downtime (a single batch would leave the rest waiting for the worker's first pass)."""
    while engine.fire_due_timers():
        pass


class Driver:
    """Drives demo cases through the engine on a clock that starts in the past and moves forward.

    A FrozenClock stands in for the engine's clock (and the scripts' today()) while seeding; each step moves it and
    does the timer worker's work first. Used by the transfer, disagreement and administrator demos and the history.
    """

    def __init__(self, engine: WorkflowEngine, ctx: DemoContext) -> None:
        self.engine, self.ctx = engine, ctx
        self.own_clock, self.own_scripts = engine.clock, engine.script_engine
        self.now = self.own_clock.now()
        self.today = calendar.to_london_date(self.now)
        self.clock = FrozenClock(self.now)
        engine.clock, engine.script_engine = self.clock, make_script_engine(script_globals(self.clock))

    def restore(self) -> None:
        self.clock.set(self.now)
        self.engine.clock, self.engine.script_engine = self.own_clock, self.own_scripts
        catch_up(self.engine)

    def day(self, days_ago: int, hour: int = 10) -> Any:
        """10:00 in England, so many days before today (never after now)."""
        local = datetime.combine(self.today - timedelta(days=days_ago), time(hour), tzinfo=calendar.LONDON)
        return min(local.astimezone(UTC), self.now)

    def iso(self, days_ago: int) -> str:
        return (self.today - timedelta(days=days_ago)).isoformat()

    def move(self, when: Any) -> None:
        self.clock.set(when)
        while self.engine.fire_due_timers():
            pass

    def user(self, email: str) -> Any:
        return self.ctx.users[email]

    def new_case(self, la_code: str, first: str, last: str, born: str, setting: str, email: str,
                 parent_name: str, listed: bool = True, relationship: str = "mother") -> int:
        """A case with its family, health body, setting and mediation service; ``listed`` puts the family's sign-in
        in the set-up command's list; ``relationship`` "young person" makes the account the young person's own."""
        with self.engine.session_factory() as session:
            parent = create_user(session, email, parent_name, DEMO_PASSWORD, self.own_clock, [(None, Role.FAMILY)])
            case = self.engine.open_case(session, self.ctx.organisations[la_code].id, first, last, born)
            for role, org in (("health_body", self.ctx.organisations["ICB"]),
                              ("setting", self.ctx.organisations[setting]),
                              ("mediation_service", self.ctx.organisations["MED"])):
                session.add(CaseParty(case_id=case.id, role=role, organisation_id=org.id))
            session.add(CaseParty(case_id=case.id, role="family", user_id=parent.id,
                                  relationship_to_child=relationship))
            session.commit()
            case_id = case.id
        self.ctx.cases[f"{first} {last}"] = case_id
        self.ctx.users[email] = parent
        if listed:
            self.ctx.credentials.append((email, Role.FAMILY.label, f"{first} {last}'s family"))
        return case_id

    def do(self, case_id: int, bpmn_id: str, data: dict[str, Any], who: Any, when: Any) -> None:
        self.move(when)
        (task,) = self.open_tasks(case_id, bpmn_id)
        self.engine.complete_task(task.id, data, who)

    def open_tasks(self, case_id: int, bpmn_id: str) -> list[Any]:
        with self.engine.session_factory() as session:
            return list(session.scalars(select(HumanTask).where(
                HumanTask.case_id == case_id, HumanTask.bpmn_id == bpmn_id, HumanTask.status == "open")
                .order_by(HumanTask.id)))

    def tell(self, case_id: int, name: str, payload: dict[str, Any], when: Any) -> int:
        """Sends a message to the case (the notice of an appealable decision starts the disagreement route)."""
        self.move(when)
        return self.engine.send_message(case_id, name, payload, self.user("caseworker@northshire.example"))


def give_plan(driver: Driver, case_id: int, setting: str, issued_days_ago: int) -> None:
    """A plan in force, made with the plan functions plan drafting uses (its own demo shows the drafting)."""
    sections = {
        "section_a": {"views": "Enjoys football and drawing; wants to be a PE teacher.", "interests": "Football",
                      "aspirations": "To go to college"},
        "section_b": {"needs": [{"area": "communication_and_interaction",
                                 "description": "Speech sound disorder: hard to understand outside the family"}]},
        "section_e": {"outcomes": [{"description": "Is understood by adults and children in school",
                                    "by_when": "July 2027", "needs": ["B1"]}]},
        "section_f": {"provision": [{"description": "Speech and language therapy programme",
                                     "amount": "2 sessions of 30 minutes a week", "provided_by": "Specialist teacher",
                                     "needs": ["B1"]}]},
    }
    advice = [{"provider": "Dr Eleanor Park", "kind": "psychological", "title": "Psychological advice",
               "received_on": driver.iso(issued_days_ago + 60)},
              {"provider": "Northshire speech and language therapy", "kind": "medical", "title": "Medical advice",
               "received_on": driver.iso(issued_days_ago + 55)}]
    moment = driver.day(issued_days_ago)
    with driver.engine.session_factory() as session:
        plans.create_draft(session, case_id, sections, now=moment, advice=advice)
        plans.issue_plan(session, case_id, "final",
                         {"I": describe_setting(session, driver.ctx.organisations[setting].id)}, now=moment)
        session.commit()
