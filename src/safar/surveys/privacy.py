"""Privacy requests for surveys: the invitations a person received and the answers they gave."""

from __future__ import annotations

from safar.identity.service import person_profile_ids
from safar.kit.privacy import ProfileRows
from safar.surveys import repository

handler = ProfileRows(person_profile_ids, repository.person_rows, repository.erase_person)
