"""SEN support in a local authority's area (issue 19): how many children are on SEN support, by setting, by primary
type of need and by age, as the school census reports its SEN support figures (an age on 31 August before the school
year; the census's codes of primary need, in the route's own words).

A child counts when a SEN support route is under way on one of the authority's cases; the setting is the case's
current one, and the primary need the one of the latest assessment recorded (none yet: "Not assessed yet"). Reads
projections only: the running instances, their case's setting, and the answers of the completed *Assess* tasks.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.lists.sen_support import ACTIVE_STATUSES, PROCESS_ID, current_labels
from engine.statutory import calendar
from engine.store.models import Case, CaseParty, HumanTask, Organisation, ProcessInstance

NOT_ASSESSED = "Not assessed yet"
NO_SETTING = "No setting recorded"
NO_AGE = "Date of birth not recorded"
# A spreadsheet runs a cell starting with one of these as a formula (as engine/reports/sen2.py).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class SenSupportFigures:
    on: date
    census_age_date: date  # the 31 August before the school year of ``on``
    total: int
    by_setting: list[tuple[str, int]]
    by_need: list[tuple[str, int]]
    by_age: list[tuple[str, int]]


def census_age_date(on: date) -> date:
    """The 31 August before the school year in which ``on`` falls: ages are counted on it, as in the census."""
    return date(on.year if on.month >= 9 else on.year - 1, 8, 31)


def sen_support_figures(session: Session, la_id: int, on: date) -> SenSupportFigures:
    """The authority's children on SEN support on the day, counted three ways."""
    found = session.execute(
        select(ProcessInstance.id, Case.date_of_birth, Case.id)
        .join(Case, Case.id == ProcessInstance.case_id)
        .where(Case.la_id == la_id, ProcessInstance.process_id == PROCESS_ID,
               ProcessInstance.status.in_(ACTIVE_STATUSES))
        .order_by(ProcessInstance.id)).all()
    by_case: dict[int, tuple[int, date | None]] = {}
    for instance_id, born, case_id in found:
        by_case[case_id] = (instance_id, born)  # one child once, whatever the number of routes
    instance_ids = [instance_id for instance_id, _ in by_case.values()]
    settings = dict(session.execute(
        select(CaseParty.case_id, Organisation.name).join(Organisation, Organisation.id == CaseParty.organisation_id)
        .where(CaseParty.case_id.in_(list(by_case)), CaseParty.role == "setting", CaseParty.active.is_(True))
        .order_by(CaseParty.id)).all())
    needs: dict[int, str] = {}
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(instance_ids),
                                                        HumanTask.bpmn_id == "UT_assess",
                                                        HumanTask.status == "completed")
                                .order_by(HumanTask.completed_at, HumanTask.id)):
        needs[task.instance_id] = str((task.submitted_data or {}).get("primary_need") or "")  # the latest wins
    words = current_labels(session)["needs"]
    age_day = census_age_date(on)
    setting_counts: Counter[str] = Counter()
    need_counts: Counter[str] = Counter()
    age_counts: Counter[int | None] = Counter()
    for case_id, (instance_id, born) in by_case.items():
        setting_counts[settings.get(case_id, NO_SETTING)] += 1
        code = needs.get(instance_id, "")
        need_counts[words.get(code, code) if code else NOT_ASSESSED] += 1
        age_counts[calendar.age_on(born, age_day) if born is not None and born <= age_day else None] += 1
    ages = sorted(age for age in age_counts if age is not None)
    by_age = [(f"{age}", age_counts[age]) for age in ages]
    if None in age_counts:
        by_age.append((NO_AGE, age_counts[None]))
    return SenSupportFigures(
        on, age_day, len(by_case),
        sorted(setting_counts.items(), key=lambda item: item[0].lower()),
        sorted(need_counts.items(), key=lambda item: (-item[1], item[0].lower())),
        by_age)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def figures_csv(figures: SenSupportFigures) -> str:
    """The three counts as one CSV: a line per group, with the breakdown it belongs to."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("Breakdown", "Group", "Children on SEN support"))
    for breakdown, rows in (("Setting", figures.by_setting), ("Primary need", figures.by_need),
                            (f"Age on {figures.census_age_date.isoformat()}", figures.by_age)):
        for group, count in rows:
            writer.writerow((breakdown, _cell(group), count))
    writer.writerow(("Total", "", figures.total))
    return out.getvalue()


__all__ = ["NOT_ASSESSED", "SenSupportFigures", "census_age_date", "figures_csv", "sen_support_figures"]
