"""The columns of the SEN2 export: each one's DfE data item, where EHC Flow takes it from, and whether the DfE needs
it. docs/sen2.md is this table written out (a test checks that it names every column).

Columns are named after the DfE's person-level SEN2 items (the XML element names of the 2024-onwards collection),
grouped by the DfE's modules; the few that are EHC Flow's own (the case reference, the local 20-week figures) say so
in ``dfe``. Booleans are ``1`` / ``0`` as in the DfE's file; dates are ISO ``YYYY-MM-DD`` in England.
"""

from __future__ import annotations

from dataclasses import dataclass

# What "mandatory" means for a column.
MANDATORY = "yes"  # the DfE requires it: a record without it is refused, with what to fix
NOT_HELD = "yes, not held"  # the DfE requires it but EHC Flow has no field for it: empty, filled in from the LA's system
CONDITIONAL = "when it applies"
OPTIONAL = "no"


@dataclass(frozen=True)
class Column:
    name: str
    module: str
    dfe: str
    mandatory: str
    source: str


COLUMNS: tuple[Column, ...] = (
    Column("LA", "Header", "LA: the local authority", MANDATORY,
           "the code of the authority the record is for (`organisation.code`)"),
    Column("CaseReference", "EHC Flow", "not a DfE item: the case the record comes from", OPTIONAL,
           "`case_record.reference`"),
    Column("Surname", "1 Person", "Surname", MANDATORY, "`case_record.child_last_name`"),
    Column("Forename", "1 Person", "Forename", MANDATORY, "`case_record.child_first_name`"),
    Column("PersonBirthDate", "1 Person", "PersonBirthDate", MANDATORY, "`case_record.date_of_birth`"),
    Column("Sex", "1 Person", "Sex: M male, F female, U not known", MANDATORY,
           "`case_record.sex` (the child's details page on the case)"),
    Column("Ethnicity", "1 Person", "Ethnicity: the DfE's main code (WBRI ... OOTH; REFU refused, NOBT not yet "
           "obtained)", MANDATORY, "`case_record.ethnicity` (the child's details page on the case)"),
    Column("PostCode", "1 Person", "PostCode", MANDATORY, "`case_record.postcode`"),
    Column("UPN", "1 Person", "UPN: unique pupil number (UPN, ULN or UPNunknown is required)", MANDATORY,
           "`case_record.upn`"),
    Column("UniqueLearnerNumber", "1 Person", "UniqueLearnerNumber", OPTIONAL, "not held by EHC Flow"),
    Column("UPNunknown", "1 Person", "UPNunknown: why neither UPN nor ULN is known", OPTIONAL,
           "not held by EHC Flow"),
    Column("ReceivedDate", "2 Requests", "ReceivedDate: the date the request was received", MANDATORY,
           "the day in England of `assessment_request.received_at` (front door); else of the `received_at` given "
           "on the start form (`route_started_by_hand` audit event); else of the moment the assessment route "
           "started. Never moved for a late hour or a weekend"),
    Column("RequestSource", "2 Requests", "RequestSource: 1 parent or young person, 2 education setting, 3 health, "
           "4 social care, 5 other", CONDITIONAL, "`assessment_request.requester_type` (front door requests only)"),
    Column("RYA", "2 Requests", "RYA: initial request while in youth custody", NOT_HELD, "not held by EHC Flow"),
    Column("RequestOutcomeDate", "2 Requests", "RequestOutcomeDate", CONDITIONAL,
           "the day the request's outcome notice was issued, else the day the decision whether to assess was made"),
    Column("RequestOutcome", "2 Requests", "RequestOutcome", CONDITIONAL,
           "the notice: `decision_to_assess` (assess), `decision_not_to_assess` (not_assess), "
           "`decline_recent_assessment` (declined_recent_assessment), `request_withdrawn` (withdrawn), "
           "`assessment_ended_moved` (moved_away); `pending` while undecided"),
    Column("RequestMediation", "2 Requests", "RequestMediation", CONDITIONAL,
           "1 when mediation was held about a refusal to assess (`mediation_held` met)"),
    Column("RequestTribunal", "2 Requests", "RequestTribunal", CONDITIONAL,
           "1 when an appeal about a refusal to assess was registered (a `tribunal_response` deadline)"),
    Column("Exported", "2 Requests", "Exported: moved out of the LA before the assessment was completed",
           CONDITIONAL, "1 when the assessment ended because the child moved (`assessment_ended_moved`)"),
    Column("AssessmentOutcome", "3 Assessment", "AssessmentOutcome: decision whether to issue a plan", CONDITIONAL,
           "`decision_to_issue` (issue), `decision_not_to_issue` (not_issue); `issue` when a plan was issued "
           "without one; `pending` while assessing"),
    Column("AssessmentOutcomeDate", "3 Assessment", "AssessmentOutcomeDate", CONDITIONAL,
           "the day that notice was issued"),
    Column("AssessmentMediation", "3 Assessment", "AssessmentMediation", CONDITIONAL,
           "1 when mediation was held about a refusal to issue a plan"),
    Column("AssessmentTribunal", "3 Assessment", "AssessmentTribunal", CONDITIONAL,
           "1 when an appeal about a refusal to issue a plan was registered"),
    Column("OtherMediation", "3 Assessment", "OtherMediation", CONDITIONAL,
           "1 when mediation was held about any other appealable decision (the plan, an amendment, ceasing)"),
    Column("OtherTribunal", "3 Assessment", "OtherTribunal", CONDITIONAL,
           "1 when an appeal about any other appealable decision was registered"),
    Column("Week20", "3 Assessment", "Week20: 20-week time limit exceptions apply", CONDITIONAL,
           "1 when a timescale exception was claimed on the plan's 20-week deadline (`final_plan_20w` "
           "`exception_reason`), else 0; empty with no plan deadline"),
    Column("StartDate", "4 Named plan", "StartDate: the date the EHC plan was issued", CONDITIONAL,
           "the day in England the final plan was issued (`final_plan_20w` `met_at`)"),
    Column("URN", "4 Named plan", "URN of the setting named in the plan", CONDITIONAL,
           "section I of the latest issued plan: the named setting's `organisation.code` when it is a six-digit URN"),
    Column("SettingName", "4 Named plan", "not a DfE item: the setting named in section I", OPTIONAL,
           "section I of the latest issued plan"),
    Column("CeaseDate", "4 Named plan", "CeaseDate", CONDITIONAL,
           "the day the `cp_plan_ceased` notice was issued; for the authority a case left, the day of the transfer"),
    Column("CeaseReason", "4 Named plan", "CeaseReason (5: transferred to another LA in England)", CONDITIONAL,
           "5 for a transfer; otherwise not held by EHC Flow"),
    Column("TransferLA", "5 Active plans", "TransferLA: the LA the plan was transferred in from", CONDITIONAL,
           "the old authority's code, from the `case_transferred` audit event"),
    Column("LastReview", "5 Active plans", "LastReview: the date of the latest annual review decision",
           CONDITIONAL, "the day the latest `annual_review` deadline was met (in the year, with a year)"),
    Column("ReviewsCompleted", "EHC Flow", "not a DfE item: annual reviews decided", OPTIONAL,
           "`annual_review` deadlines met by this authority (in the year, with a year)"),
    Column("ReviewsOnTime", "EHC Flow", "not a DfE item: of which on time", OPTIONAL, "not missed"),
    Column("Within20Weeks", "EHC Flow", "not a DfE item: the DfE's measure, worked out (StartDate no later than "
           "20 weeks after ReceivedDate)", CONDITIONAL, "ReceivedDate and StartDate"),
    Column("LocalStatutoryStartDate", "EHC Flow", "not a DfE item: LOCAL measure, the route's start date (a "
           "request received after 5pm or on a non-working day starts the next working day)", OPTIONAL,
           "6 weeks before `decide_whether_to_assess` is due, else 20 weeks before `final_plan_20w` is"),
    Column("LocalPlanDue", "EHC Flow", "not a DfE item: LOCAL measure, the route's 20-week date", OPTIONAL,
           "`final_plan_20w` due date"),
    Column("LocalWithin20Weeks", "EHC Flow", "not a DfE item: LOCAL measure, the route's deadline was not missed",
           OPTIONAL, "`final_plan_20w` not missed"),
    Column("PlanExceptionReason", "EHC Flow", "not a DfE item: the exception claimed (Week20 is 1 with one)",
           OPTIONAL, "`final_plan_20w` `exception_reason`"),
)

NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)

__all__ = ["COLUMNS", "CONDITIONAL", "Column", "MANDATORY", "NAMES", "NOT_HELD", "OPTIONAL"]
