"""Survey fixtures: a real local SMTP server and SMS gateway, a runtime on either stack."""

from tests.surveys.fixtures import rt, sms_gateway, smtp, svy_settings, ws_id  # noqa: F401
