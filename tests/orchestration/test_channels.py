"""Channels: SMS provider presets build the requests the providers document; SMTP failures."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from safar.config import Settings
from safar.orchestration.channels import (
    DeliveryFailed,
    EmailChannel,
    OutboundMessage,
    SmsChannel,
    default_channels,
)
from tests.orchestration.factories import Gateway, SmtpServer
from tests.processes import free_port

MSG = OutboundMessage("sms", "+989121234567", "نظر شما: http://safar.test/s/abc")


def capture(preset: str, **settings: str) -> httpx.Request:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    cfg = Settings(sms_provider=preset, **settings)  # type: ignore[arg-type]
    SmsChannel.from_settings(cfg, client=client).send(MSG)
    return seen[0]


def test_kavenegar_preset() -> None:
    req = capture("kavenegar", sms_api_key="KEY", sms_sender="10004346")
    assert str(req.url) == "https://api.kavenegar.com/v1/KEY/sms/send.json"
    body = {k: v[0] for k, v in parse_qs(req.content.decode()).items()}
    assert body == {"receptor": "+989121234567", "message": MSG.text, "sender": "10004346"}


def test_twilio_preset() -> None:
    req = capture("twilio", sms_api_key="TOKEN", sms_account="AC1", sms_sender="+15550001")
    assert str(req.url) == "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    assert req.headers["authorization"].startswith("Basic ")
    body = {k: v[0] for k, v in parse_qs(req.content.decode()).items()}
    assert body == {"To": "+989121234567", "From": "+15550001", "Body": MSG.text}


def test_preset_url_can_point_at_a_local_gateway(sms_gateway: Gateway) -> None:
    cfg = Settings(
        sms_provider="kavenegar", sms_url=sms_gateway.url + "/{api_key}/send", sms_api_key="K"
    )
    SmsChannel.from_settings(cfg).send(MSG)
    got = sms_gateway.wait(1)
    assert got[0]["path"] == "/K/send" and got[0]["body"]["receptor"] == "+989121234567"


def test_unreachable_gateway_and_smtp_fail_clearly(smtp: SmtpServer) -> None:
    cfg = Settings(sms_provider="generic", sms_url=f"http://127.0.0.1:{free_port()}/x")
    with pytest.raises(DeliveryFailed, match="gateway unreachable"):
        SmsChannel.from_settings(cfg).send(MSG)
    email = EmailChannel.from_settings(Settings(smtp_host="127.0.0.1", smtp_port=free_port()))
    with pytest.raises(DeliveryFailed, match="SMTP delivery failed"):
        email.send(OutboundMessage("email", "a@example.com", "hi", subject="s"))
    ok = EmailChannel.from_settings(Settings(smtp_host=smtp.host, smtp_port=smtp.port))
    ok.send(OutboundMessage("email", "a@example.com", "سلام", subject="نظرسنجی"))
    assert smtp.mailbox.wait(1)[0]["Subject"] == "نظرسنجی"


def test_only_configured_channels_are_offered() -> None:
    assert set(default_channels(Settings())) == {"app"}
    assert set(default_channels(Settings(smtp_host="mail", sms_provider="kavenegar"))) == {
        "app",
        "email",
        "sms",
    }
