"""Telegram, signed webhooks and push gateways against real local HTTP servers: what each
provider is sent, and which failures may be retried."""

from __future__ import annotations

import json
from email.header import decode_header, make_header

import httpx
import pytest

from safar.config import Settings
from safar.orchestration.channels import (
    DeliveryFailed,
    DeliveryUncertain,
    OutboundMessage,
    PushChannel,
    TelegramChannel,
    WebhookChannel,
    default_channels,
)
from safar.orchestration.webhooks import sign, verify_signature
from tests.orchestration.factories import Reply, http_server
from tests.processes import free_port

TEXT = "نظر شما درباره سفارش؟ http://safar.test/s/abc"
TITLE = "نظرسنجی رضایت از سفارش، ارسال و پشتیبانی فروشگاه؛ فقط یک دقیقه وقت شما را می‌گیرد"


def telegram(url: str) -> TelegramChannel:
    cfg = Settings(telegram_bot_token="123:ABC", telegram_api_url=url)
    return TelegramChannel.from_settings(cfg, client=httpx.Client(timeout=5))


def test_telegram_sends_to_the_chat_and_explains_refusals() -> None:
    ok = Reply(200, {"ok": True, "result": {"message_id": 42}})
    refused = Reply(
        400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    )
    limited = Reply(
        429,
        {
            "ok": False,
            "description": "Too Many Requests: retry after 5",
            "parameters": {"retry_after": 5},
        },
    )
    with http_server(ok, refused, limited, Reply(502, {"ok": False})) as bot:
        channel = telegram(bot.url + "/")
        assert channel.send(OutboundMessage("telegram", "98765", TEXT)) == {"message_id": 42}
        with pytest.raises(DeliveryFailed) as no_chat:
            channel.send(OutboundMessage("telegram", "1", TEXT))
        with pytest.raises(DeliveryFailed) as slow_down:
            channel.send(OutboundMessage("telegram", "98765", TEXT))
        with pytest.raises(DeliveryFailed) as down:
            channel.send(OutboundMessage("telegram", "98765", TEXT))
    assert bot.received[0]["path"] == "/bot123:ABC/sendMessage"
    assert json.loads(bot.received[0]["raw"]) == {"chat_id": "98765", "text": TEXT}
    assert no_chat.value.message == "telegram: Bad Request: chat not found"
    assert not no_chat.value.retryable
    assert slow_down.value.retryable and slow_down.value.retry_after == 5.0
    assert down.value.retryable and down.value.retry_after is None


def test_webhook_body_is_signed_for_the_receiver_to_verify() -> None:
    secret = "whsec-0123456789"
    data = {"type": "journey.step", "profile_id": "prf_1", "text": "سلام"}
    with http_server(Reply(204, {})) as receiver:
        channel = WebhookChannel(
            secret, client=httpx.Client(timeout=5), clock=lambda: 1_800_000_000
        )
        message = OutboundMessage(
            "webhook", receiver.url + "/in", "", subject="journey.step", key="flow:i1:s2", data=data
        )
        assert channel.send(message) == {"status_code": 204}
    got = receiver.received[0]
    headers, raw = got["headers"], got["raw"]
    assert json.loads(raw) == data and headers["content-type"] == "application/json"
    assert headers["safar-idempotency-key"] == "flow:i1:s2"
    assert headers["safar-event"] == "journey.step"
    signature = headers["safar-signature"]
    assert signature.startswith("t=1800000000,v1=")
    assert verify_signature(secret, signature, raw, now=1_800_000_100)
    assert not verify_signature(secret, signature, raw + b" ", now=1_800_000_100)  # tampered
    assert not verify_signature("other-secret", signature, raw, now=1_800_000_100)
    assert not verify_signature(secret, signature, raw, now=1_800_000_301)  # too old: a replay
    assert not verify_signature(secret, "v1=abc", raw, now=1_800_000_000)
    rotated = f"{sign('new-secret', raw, 1_800_000_000)},v1={signature.split('v1=')[1]}"
    assert verify_signature(secret, rotated, raw, now=1_800_000_000)


def test_webhook_refuses_other_schemes_and_tells_unreachable_from_unanswered() -> None:
    channel = WebhookChannel("s", client=httpx.Client(timeout=0.3))
    with pytest.raises(DeliveryFailed, match="http:// or https://") as scheme:
        channel.send(OutboundMessage("webhook", "file:///etc/passwd", ""))
    assert not scheme.value.retryable
    with pytest.raises(DeliveryFailed, match="gateway unreachable") as refused:
        channel.send(OutboundMessage("webhook", f"http://127.0.0.1:{free_port()}/x", ""))
    assert refused.value.retryable  # nothing reached anyone: safe to try again
    with (
        http_server(Reply(200, delay_s=1.0)) as slow,
        pytest.raises(DeliveryUncertain, match="not resent") as unanswered,
    ):
        channel.send(OutboundMessage("webhook", slow.url + "/x", ""))
    assert not unanswered.value.retryable  # it may have arrived: never sent again


@pytest.mark.parametrize(
    ("provider", "path", "auth"),
    [
        ("ntfy", "/topic-u1", "Bearer tk_key"),
        ("gotify", "/message?token=topic-u1", None),
        ("generic", "/", "Bearer tk_key"),
    ],
)
def test_push_gateway_presets(provider: str, path: str, auth: str | None) -> None:
    with http_server() as gateway:
        cfg = Settings(push_provider=provider, push_url=gateway.url, push_api_key="tk_key")  # type: ignore[arg-type]
        channel = PushChannel.from_settings(cfg, client=httpx.Client(timeout=5))
        channel.send(OutboundMessage("push", "topic-u1", TEXT, subject=TITLE))
    got = gateway.received[0]
    assert got["path"] == path and got["headers"].get("authorization") == auth
    if provider == "ntfy":
        assert got["raw"].decode() == TEXT
        title = str(make_header(decode_header(got["headers"]["title"])))
        assert title == TITLE  # RFC 2047 on the wire (one line, however long), Persian on the phone
    elif provider == "gotify":
        assert json.loads(got["raw"]) == {"title": TITLE, "message": TEXT}
    else:
        assert json.loads(got["raw"]) == {"to": "topic-u1", "title": TITLE, "text": TEXT}


def test_push_gateway_errors_are_retried_only_when_temporary() -> None:
    with http_server(Reply(503, {}, {"Retry-After": "12"}), Reply(404, {})) as gateway:
        channel = PushChannel.from_settings(
            Settings(push_provider="ntfy", push_url=gateway.url), client=httpx.Client(timeout=5)
        )
        with pytest.raises(DeliveryFailed) as busy:
            channel.send(OutboundMessage("push", "t", "x"))
        with pytest.raises(DeliveryFailed) as gone:
            channel.send(OutboundMessage("push", "t", "x"))
    assert busy.value.retryable and busy.value.retry_after == 12.0
    assert not gone.value.retryable and gone.value.message == "push: gateway answered HTTP 404"


def test_each_channel_is_offered_once_configured() -> None:
    assert set(default_channels(Settings())) == {"app"}
    configured = Settings(
        telegram_bot_token="1:A",
        webhook_secret="s3cret",
        push_provider="ntfy",
        push_url="https://ntfy.example",
    )
    assert set(default_channels(configured)) == {"app", "telegram", "webhook", "push"}
    assert "push" not in default_channels(Settings(push_provider="ntfy"))  # no gateway URL
