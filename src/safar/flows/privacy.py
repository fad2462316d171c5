"""Privacy requests for journeys: the instances a person is or was in and what they did."""

from __future__ import annotations

from safar.flows import repository
from safar.identity.service import person_profile_ids
from safar.kit.privacy import ProfileRows

handler = ProfileRows(person_profile_ids, repository.person_rows, repository.erase_person)
