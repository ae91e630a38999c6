"""The words of the SEN support route's newer answers (the kind of setting, the progress check at age two), read from
the forms of the route's deployed version so that a process owner's rewording shows at once, with these as the
fallback (as ``engine.lists.sen_support.labels_from_files`` does for the older ones)."""

from __future__ import annotations

from collections.abc import Mapping

from engine.lists.sen_support import labels_from_files

PHASES = {"early_years": "An early years setting", "school": "A school", "college": "A college or other post-16 setting"}
PROGRESS_CHECK = {
    "done_here": "Done by this setting", "integrated": "Done with the health visitor's review at two",
    "done_elsewhere": "Done by another setting", "not_done": "Not done: the child joined after the age of three",
}
PRIME_AREAS = {
    "communication_and_language": "Communication and language", "physical_development": "Physical development",
    "personal_social_emotional": "Personal, social and emotional development",
}
#: template name -> (fallback, form, path to the question)
_WORDS: dict[str, tuple[dict[str, str], str, tuple[str, ...]]] = {
    "phase_labels": (PHASES, "ss_identify.json", ("setting_phase",)),
    "progress_check_labels": (PROGRESS_CHECK, "ss_progress_check.json", ("progress_check_status",)),
    "prime_area_labels": (PRIME_AREAS, "ss_progress_check.json", ("prime_areas_of_concern", "items")),
}


def record_labels(files: Mapping[str, str] | None) -> dict[str, dict[str, str]]:
    """name -> value -> words, for the record pages."""
    return labels_from_files(files, _WORDS)


__all__ = ["PHASES", "PRIME_AREAS", "PROGRESS_CHECK", "record_labels"]
