"""A setting's notional SEN budget, and its provision map set against it (the Code 6.96-6.99: a school's funding has
an identified amount for SEN support, and the provision map shows what the school spends on it).

The SENCO records the amount for the financial year (1 April to 31 March, as school budgets run); the provision map
(``engine.lists.sen_support.provision_map``) adds up what each pupil's current plan costs, and what is left or over is
the difference. Only the setting's own SENCO records or reads its budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, NotAllowed
from engine.store.models import AuditEvent, Organisation, User
from engine.store.sen_budget import SenBudget

#: Larger than any school's whole budget: a typing slip (an extra digit or two) rather than a real amount.
MAX_BUDGET = 50_000_000
_AMOUNT = re.compile(r"£?\s*(\d{1,3}(,\d{3})+|\d+)(\.00?)?\Z")


def financial_year(day: date) -> int:
    """The year in which the financial year holding ``day`` began (on 1 April)."""
    return day.year if day.month >= 4 else day.year - 1


def year_label(year_from: int) -> str:
    return f"{year_from} to {year_from + 1}"


def budgets(session: Session, organisation_ids: set[int], year_from: int) -> dict[int, int]:
    """organisation id -> the amount recorded for that financial year."""
    if not organisation_ids:
        return {}
    return dict(session.execute(select(SenBudget.organisation_id, SenBudget.amount).where(
        SenBudget.organisation_id.in_(sorted(organisation_ids)), SenBudget.year_from == year_from)).all())


def parse_amount(text: str) -> int:
    """Whole pounds, as people type them ("£24,500", "24500", "24500.00"); FormInvalid on ``amount`` otherwise."""
    found = _AMOUNT.match(" ".join((text or "").split()))
    if found is None:
        raise FormInvalid({"amount": "Enter the budget in whole pounds, like 24500"})
    amount = int(found.group(1).replace(",", ""))
    if amount > MAX_BUDGET:
        raise FormInvalid({"amount": f"Enter a budget of £{MAX_BUDGET:,} or less"})
    return amount


def set_budget(session: Session, settings: set[int], organisation_id: int, year_from: int, amount_text: str,
               actor: User, now: datetime) -> SenBudget:
    """Records (or changes) the setting's budget for the year, audited; the caller commits. ``settings`` are the
    actor's own (``engine.lists.sen_support.senco_settings``): any other is refused."""
    if organisation_id not in settings or session.get(Organisation, organisation_id) is None:
        raise NotAllowed("Only the setting's SENCO records its SEN budget")
    amount = parse_amount(amount_text)
    row = session.scalar(select(SenBudget).where(SenBudget.organisation_id == organisation_id,
                                                 SenBudget.year_from == year_from))
    before = row.amount if row is not None else None
    if row is None:
        row = SenBudget(organisation_id=organisation_id, year_from=year_from, amount=amount, recorded_at=now,
                        recorded_by_id=actor.id)
        session.add(row)
    row.amount, row.recorded_at, row.recorded_by_id = amount, now, actor.id
    session.add(AuditEvent(at=now, actor_id=actor.id, action="sen_budget_recorded",
                           summary=f"Notional SEN budget {year_label(year_from)} recorded: £{amount:,}",
                           detail={"organisation_id": organisation_id, "year_from": year_from, "amount": amount,
                                   "before": before}))
    session.flush()
    return row


@dataclass(frozen=True)
class Spending:
    """A setting's provision map in total, against its budget (None when none is recorded for the year)."""

    organisation_id: int
    setting_name: str
    cost_per_year: float
    hours_per_week: float
    budget: int | None

    @property
    def left(self) -> float | None:
        return None if self.budget is None else self.budget - self.cost_per_year


def spending(settings: dict[int, str], lines: list, recorded: dict[int, int]) -> list[Spending]:
    """Each of the settings (id -> name) with what its provision map adds up to and its recorded budget; a setting
    with no provision yet is listed too, so that its budget can be recorded before its first plan."""
    by_name: dict[str, list] = {}
    for line in lines:
        by_name.setdefault(line.setting_name, []).append(line)
    return [Spending(org_id, name, sum(line.cost_per_year for line in by_name.get(name, [])),
                     sum(line.hours_per_week for line in by_name.get(name, [])), recorded.get(org_id))
            for org_id, name in sorted(settings.items(), key=lambda item: item[1])]


__all__ = ["MAX_BUDGET", "SenBudget", "Spending", "budgets", "financial_year", "parse_amount", "set_budget",
           "spending", "year_label"]
