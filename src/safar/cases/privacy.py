"""Privacy requests for cases: the person's cases and their logs, exported or erased."""

from __future__ import annotations

from safar.cases import repository
from safar.identity.service import person_profile_ids
from safar.kit.privacy import ProfileRows

handler = ProfileRows(person_profile_ids, repository.person_rows, repository.erase_person)
