"""The orchestration tests use the same real SMTP server and SMS gateway as the survey tests."""

from tests.surveys.fixtures import rt, sms_gateway, smtp, svy_settings, ws_id  # noqa: F401
