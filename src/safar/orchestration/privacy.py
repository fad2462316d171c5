"""Privacy requests for orchestration: the jobs run about a person and the contacts made.

Jobs not yet claimed carry only the triggering event (no profile yet); they are found by the
profile once claimed, and a claimed job for an erased person finds no profile and is skipped.
"""

from __future__ import annotations

from safar.identity.service import person_profile_ids
from safar.kit.privacy import ProfileRows
from safar.orchestration import repository

handler = ProfileRows(person_profile_ids, repository.person_rows, repository.erase_person)
