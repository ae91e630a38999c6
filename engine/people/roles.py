"""Roles, and the BPMN lane names that map to them.

A lane in a BPMN file names the people who do its user tasks. The lane name is what a process owner sees in the
modeler, so it is the readable form; the role code is what is stored against users and tasks.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CASEWORKER = "la_caseworker"
    MANAGER = "la_manager"
    EDUCATIONAL_PSYCHOLOGIST = "educational_psychologist"
    HEALTH = "health"
    SOCIAL_CARE = "social_care"
    SCHOOL = "school"
    FAMILY = "family"
    MEDIATION = "mediation"
    ADMIN = "admin"
    PROCESS_OWNER = "process_owner"
    # Looks after the deployment itself: only they add a local authority (the other organisations are added by the
    # authorities' administrators). Held at an organisation like any role, but it reaches the whole deployment.
    SYSTEM_ADMIN = "system_admin"
    # Council staff who look after the authority's Local Offer (webui/local_offer): its entries, fixed pages,
    # comments and providers' changes, and nothing else.
    LOCAL_OFFER_EDITOR = "local_offer_editor"
    # Staff of a charity or other service with entries in a Local Offer: they propose changes to their own entries
    # for the LA to review (workflows/local_offer_review.bpmn), and see nothing else.
    LOCAL_OFFER_PROVIDER = "local_offer_provider"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.CASEWORKER: "LA caseworker",
    Role.MANAGER: "LA manager or decision panel",
    Role.EDUCATIONAL_PSYCHOLOGIST: "Educational psychologist",
    Role.HEALTH: "Health",
    Role.SOCIAL_CARE: "Social care",
    Role.SCHOOL: "School or setting",
    Role.FAMILY: "Parent or young person",
    Role.MEDIATION: "Mediation service",
    Role.ADMIN: "Administrator",
    Role.PROCESS_OWNER: "Process owner",
    Role.SYSTEM_ADMIN: "System administrator",
    Role.LOCAL_OFFER_EDITOR: "Local Offer editor",
    Role.LOCAL_OFFER_PROVIDER: "Local Offer provider",
}

# Roles held at an organisation that open none of its cases: a family reaches its own through the case, and a Local
# Offer editor looks after the public directory only (engine.people.access and engine.lists.cases read this).
NO_CASE_ACCESS_ROLES = frozenset({Role.FAMILY.value, Role.LOCAL_OFFER_EDITOR.value, Role.LOCAL_OFFER_PROVIDER.value})

# Lane names accepted in BPMN files. Several spellings map to one role because process owners name lanes the way
# their authority speaks ("decision panel" and "manager" are the same people in most LAs).
LANE_ROLES: dict[str, Role] = {
    "LA caseworker": Role.CASEWORKER,
    "LA manager": Role.MANAGER,
    "LA decision panel": Role.MANAGER,
    "Educational psychologist": Role.EDUCATIONAL_PSYCHOLOGIST,
    "Health": Role.HEALTH,
    "Social care": Role.SOCIAL_CARE,
    "School": Role.SCHOOL,
    "Family": Role.FAMILY,
    "Mediation": Role.MEDIATION,
    # The LA's review of a provider's change to its Local Offer entry (workflows/local_offer_review.bpmn).
    "Local Offer editor": Role.LOCAL_OFFER_EDITOR,
}

# Which kind of organisation on a case does the work of each role.
ROLE_PARTY: dict[Role, str] = {
    Role.CASEWORKER: "local_authority",
    Role.MANAGER: "local_authority",
    Role.EDUCATIONAL_PSYCHOLOGIST: "local_authority",
    Role.SOCIAL_CARE: "local_authority",
    Role.LOCAL_OFFER_EDITOR: "local_authority",
    Role.HEALTH: "health_body",
    Role.SCHOOL: "setting",
    Role.MEDIATION: "mediation_service",
    Role.FAMILY: "family",
}

# Roles that may be granted by a holder of the key role (an admin cannot create a role above their own).
ROLE_RANK: dict[Role, int] = {
    Role.FAMILY: 0,
    Role.SCHOOL: 1,
    Role.HEALTH: 1,
    Role.SOCIAL_CARE: 1,
    Role.EDUCATIONAL_PSYCHOLOGIST: 1,
    Role.MEDIATION: 1,
    Role.CASEWORKER: 1,
    Role.LOCAL_OFFER_EDITOR: 1,
    Role.LOCAL_OFFER_PROVIDER: 1,
    Role.MANAGER: 2,
    Role.PROCESS_OWNER: 3,
    Role.ADMIN: 4,
    Role.SYSTEM_ADMIN: 5,
}


#: The value of a family task's ``familyMember`` property that gives it to the young person (and a parent they named).
YOUNG_PERSON = "young_person"


def role_for_lane(lane: str | None) -> Role | None:
    if lane is None:
        return None
    return LANE_ROLES.get(lane.strip())
