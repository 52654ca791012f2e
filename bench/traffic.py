"""What the providers send the desk, signed as each provider signs it: one customer message per
channel, for the load benchmark (bench/load.py).

Every message carries a nonce in its text, so the run finds it in the store afterwards, and
every customer a recipient of their own (chat id, Viber id, phone, visitor id, mail domain),
so each acknowledgement in /dev/outbox belongs to exactly one of them. Mail comes from a domain
of its own per customer: the desk caps acknowledgements per recipient domain and hour.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlencode

from chalicelib.channels import twilio
from chalicelib.signing import hmac_hex, sign_timestamped

WEBHOOKS = {
    "form": "/webhooks/form",
    "chat": "/webhooks/chat",
    "telegram": "/webhooks/telegram",
    "viber": "/webhooks/viber",
    "twilio": "/webhooks/twilio",
}
TWILIO_NUMBER = "+15005550006"


@dataclass(frozen=True)
class Secrets:
    """The local stage's secrets (.chalice/config.json), as the providers hold them."""

    form: str
    chat: str
    telegram: str
    viber: str
    twilio_token: str
    twilio_account: str

    @classmethod
    def of_stage(cls, environment: dict[str, str]) -> Secrets:
        def secret(name: str) -> str:
            return environment[f"PROMPTLY_SECRET_{name.upper()}"]

        return cls(
            secret("form_secret"),
            secret("chat_secret"),
            secret("telegram_secret_token"),
            secret("viber_auth_token"),
            secret("twilio_auth_token"),
            secret("twilio_account_sid"),
        )


@dataclass(frozen=True)
class Message:
    """One customer message. `path` None: an email, dropped into the local inbox as `body`.
    `headers()` signs at the moment of sending, as the website's server does (its signatures
    carry a timestamp); a redelivery of the same message is signed again."""

    channel: str
    nonce: str
    recipient: str  # who its acknowledgement goes to, as /dev/outbox names them
    path: str | None
    body: bytes
    headers: Callable[[], dict[str, str]]


class Traffic:
    """Builds message number `n` of run `run` for each channel."""

    def __init__(self, run: int, secrets: Secrets, base: str) -> None:
        self.run, self.secrets, self.base = run, secrets, base

    def message(self, channel: str, n: int) -> Message:
        build: Callable[[int, str], Message] = getattr(self, f"_{channel}")
        return build(n, f"load-{self.run}-{n}")

    def _form(self, n: int, nonce: str) -> Message:
        address = f"c{n}@r{self.run}-c{n}.example"
        body = json.dumps(
            {
                "submission_id": nonce,
                "email": address,
                "name": f"Customer {n}",
                "subject": f"Question {n}",
                "message": f"{nonce}: how do I change my plan?",
            }
        ).encode()
        return Message("form", nonce, address, WEBHOOKS["form"], body, self._website(self.secrets.form, body))

    def _chat(self, n: int, nonce: str) -> Message:
        visitor = f"v-{self.run}-{n}"
        body = json.dumps(
            {"message_id": nonce, "visitor_id": visitor, "name": f"Visitor {n}", "text": f"{nonce}: is anyone there?"}
        ).encode()
        return Message("chat", nonce, visitor, WEBHOOKS["chat"], body, self._website(self.secrets.chat, body))

    def _telegram(self, n: int, nonce: str) -> Message:
        chat = self.run * 1_000_000 + n
        sent = int(datetime.now(UTC).timestamp())
        body = json.dumps(
            {
                "update_id": chat,
                "message": {
                    "message_id": 1,
                    "date": sent,
                    "text": f"{nonce}: where is my order?",
                    "chat": {"id": chat, "type": "private", "first_name": "Taras"},
                    "from": {"id": chat, "is_bot": False, "first_name": "Taras"},
                },
            }
        ).encode()
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": self.secrets.telegram}
        return Message("telegram", nonce, str(chat), WEBHOOKS["telegram"], body, lambda: headers)

    def _viber(self, n: int, nonce: str) -> Message:
        sender = f"r{self.run}v{n}="
        body = json.dumps(
            {
                "event": "message",
                "timestamp": int(datetime.now(UTC).timestamp() * 1000),
                "message_token": self.run * 1_000_000 + n,
                "sender": {"id": sender, "name": "John", "language": "en", "api_version": 1},
                "message": {"type": "text", "text": f"{nonce}: my parcel is late"},
            }
        ).encode()
        headers = {"Content-Type": "application/json", "X-Viber-Content-Signature": hmac_hex(self.secrets.viber, body)}
        return Message("viber", nonce, sender, WEBHOOKS["viber"], body, lambda: headers)

    def _twilio(self, n: int, nonce: str) -> Message:
        phone = f"+38050{self.run % 1000:03d}{n:04d}"
        params = [
            ("MessageSid", f"SM{self.run:08d}{n:024d}"),
            ("AccountSid", self.secrets.twilio_account),
            ("From", phone),
            ("To", TWILIO_NUMBER),
            ("Body", f"{nonce}: please call me back"),
            ("NumMedia", "0"),
            ("SmsStatus", "received"),
        ]
        signature = twilio.signature(self.secrets.twilio_token, self.base + WEBHOOKS["twilio"], params)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        return Message("twilio", nonce, phone, WEBHOOKS["twilio"], urlencode(params).encode(), lambda: headers)

    def _email(self, n: int, nonce: str) -> Message:
        address = f"m{n}@r{self.run}-m{n}.example"
        mail = EmailMessage()
        mail["From"] = f"Mail Customer {n} <{address}>"
        mail["To"] = "support@promptly.example"
        mail["Subject"] = f"Invoice copy {n}"
        mail["Message-ID"] = f"<{nonce}@r{self.run}.example>"
        mail["Date"] = format_datetime(datetime.now(UTC))
        mail.set_content(f"{nonce}: could you send me a copy of my last invoice?\n")
        return Message("email", nonce, address, None, mail.as_bytes(), dict)

    @staticmethod
    def _website(secret: str, body: bytes) -> Callable[[], dict[str, str]]:
        def headers() -> dict[str, str]:
            timestamp, signature = sign_timestamped(secret, body, datetime.now(UTC))
            return {
                "Content-Type": "application/json",
                "X-Promptly-Timestamp": timestamp,
                "X-Promptly-Signature": signature,
            }

        return headers
