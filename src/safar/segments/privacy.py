"""Privacy requests for segments: which saved segments a person is in, since when."""

from __future__ import annotations

from safar.identity.service import person_profile_ids
from safar.kit.privacy import ProfileRows
from safar.segments import repository

handler = ProfileRows(person_profile_ids, repository.person_rows, repository.erase_person)
