"""Outbound channels: email over SMTP, SMS through an HTTP gateway, in-app (pulled over the API).

Every transport is injectable (an SMTP connection factory, an ``httpx.Client``), so tests talk to
a real local SMTP server and a real local HTTP gateway. SMS providers differ only in URL, auth
and field names, so a provider is a small template (``SmsPreset``), not code.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Protocol

import httpx

from safar.config import Settings
from safar.errors import SafarError


class DeliveryFailed(SafarError):
    status_code = 502


@dataclass(slots=True)
class OutboundMessage:
    channel: str
    to: str
    text: str
    subject: str = ""
    html: str | None = None
    language: str = "fa"
    headers: dict[str, str] = field(default_factory=dict)


class Channel(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        """Deliver the message or raise ``DeliveryFailed``; return what the provider said."""
        ...


class EmailChannel:
    """SMTP: plain text plus HTML alternative, UTF-8 throughout (Persian subjects and bodies)."""

    name = "email"

    def __init__(self, sender: str, connect: Callable[[], smtplib.SMTP]) -> None:
        self.sender = sender
        self.connect = connect

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailChannel:
        def connect() -> smtplib.SMTP:
            host, port, timeout = (
                settings.smtp_host or "",
                settings.smtp_port,
                settings.smtp_timeout,
            )
            smtp: smtplib.SMTP
            if settings.smtp_ssl:
                ctx = ssl.create_default_context()
                smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ctx)
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            return smtp

        return cls(settings.smtp_from, connect)

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        mail = EmailMessage()
        mail["From"] = formataddr(("Safar", self.sender)) if "<" not in self.sender else self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(domain="safar.local")
        for k, v in message.headers.items():
            mail[k] = v
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        try:
            with self.connect() as smtp:
                refused = smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"email: SMTP delivery failed ({type(exc).__name__})") from exc
        if refused:
            raise DeliveryFailed(f"email: recipient refused {sorted(refused)}")
        return {"message_id": mail["Message-ID"]}


@dataclass(frozen=True, slots=True)
class SmsPreset:
    """How one provider wants an SMS: URL template, body encoding, field names, auth."""

    url: str
    body: dict[str, str]
    encoding: str = "form"  # form | json
    auth: str = "none"  # none | basic | bearer


#: ``{api_key}``, ``{account}``, ``{sender}``, ``{to}`` and ``{text}`` are filled in.
SMS_PRESETS: dict[str, SmsPreset] = {
    "kavenegar": SmsPreset(
        url="https://api.kavenegar.com/v1/{api_key}/sms/send.json",
        body={"receptor": "{to}", "message": "{text}", "sender": "{sender}"},
    ),
    "twilio": SmsPreset(
        url="https://api.twilio.com/2010-04-01/Accounts/{account}/Messages.json",
        body={"To": "{to}", "From": "{sender}", "Body": "{text}"},
        auth="basic",
    ),
    "generic": SmsPreset(
        url="{base_url}",
        body={"to": "{to}", "text": "{text}", "sender": "{sender}"},
        encoding="json",
        auth="bearer",
    ),
}


class SmsChannel:
    """An SMS gateway reached over HTTP; any 2xx answer counts as accepted."""

    name = "sms"

    def __init__(
        self,
        preset: SmsPreset,
        *,
        client: httpx.Client,
        api_key: str = "",
        account: str = "",
        sender: str = "",
        base_url: str = "",
    ) -> None:
        self.preset = preset
        self.client = client
        self.api_key = api_key
        self.account = account
        self.sender = sender
        self.base_url = base_url

    @classmethod
    def from_settings(cls, settings: Settings, client: httpx.Client | None = None) -> SmsChannel:
        preset = SMS_PRESETS[settings.sms_provider or "generic"]
        if settings.sms_url and settings.sms_provider != "generic":
            preset = SmsPreset(settings.sms_url, preset.body, preset.encoding, preset.auth)
        return cls(
            preset,
            client=client or httpx.Client(timeout=10.0),
            api_key=settings.sms_api_key or "",
            account=settings.sms_account or "",
            sender=settings.sms_sender or "",
            base_url=settings.sms_url or "",
        )

    def _fill(self, template: str, message: OutboundMessage) -> str:
        return template.format(
            api_key=self.api_key,
            account=self.account,
            sender=self.sender,
            base_url=self.base_url,
            to=message.to,
            text=message.text,
        )

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        url = self._fill(self.preset.url, message)
        if not url.startswith(("http://", "https://")):
            raise DeliveryFailed("sms: no gateway URL configured (SAFAR_SMS_URL)")
        body = {k: self._fill(v, message) for k, v in self.preset.body.items()}
        kwargs: dict[str, Any] = (
            {"json": body} if self.preset.encoding == "json" else {"data": body}
        )
        if self.preset.auth == "basic":
            kwargs["auth"] = (self.account, self.api_key)
        elif self.preset.auth == "bearer" and self.api_key:
            kwargs["headers"] = {"Authorization": f"Bearer {self.api_key}"}
        try:
            resp = self.client.post(url, **kwargs)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"sms: gateway unreachable ({type(exc).__name__})") from exc
        if resp.status_code >= 300:
            raise DeliveryFailed(f"sms: gateway answered HTTP {resp.status_code}")
        return {"status_code": resp.status_code}


class InAppChannel:
    """Nothing is pushed: the app asks ``GET /api/surveys/pending`` and shows the widget."""

    name = "app"

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        return {"delivery": "pull"}


def default_channels(settings: Settings) -> dict[str, Channel]:
    channels: dict[str, Channel] = {"app": InAppChannel()}
    if settings.smtp_host:
        channels["email"] = EmailChannel.from_settings(settings)
    if settings.sms_provider and (settings.sms_url or settings.sms_provider != "generic"):
        channels["sms"] = SmsChannel.from_settings(settings)
    return channels
