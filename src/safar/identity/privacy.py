"""Privacy requests for the identity graph: the person's profiles, identities, traits, consent,
household memberships and merges. Erased last of all domains (others find the person here)."""

from __future__ import annotations

from safar.identity import repository
from safar.identity.service import person_profile_ids
from safar.kit.privacy import ProfileRows

handler = ProfileRows(person_profile_ids, repository.person_rows, repository.erase_person)
