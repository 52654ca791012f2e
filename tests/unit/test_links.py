"""Signed links for customers (chalicelib/links.py): a link the desk sent opens until it expires;
a changed, forged or misused one is refused (403), an old one is gone (410).

Tokens are `<base64url JSON>.<base64url HMAC-SHA256>` under the stage's link secret (the module
docstring); `forge` below writes that format itself to try what a stranger could send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import links, secrets
from chalicelib.errors import Forbidden

NOW = datetime(2026, 11, 16, 9, tzinfo=UTC)
WEEK = NOW + timedelta(days=7)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(payload: object, secret: str | None = None) -> str:
    body = b64(json.dumps(payload).encode())
    key = (secret or secrets.get("link_secret")).encode()
    return f"{body}.{b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"


def test_a_link_round_trips_its_ticket_purpose_and_extras():
    token = links.sign("rate", "PR-7K3QX9M2", WEEK, s="2026-11-16T08:00:00.000Z", choice="good")
    payload = links.verify(token, "rate", NOW)
    assert payload["t"] == "PR-7K3QX9M2"
    assert (payload["s"], payload["choice"]) == ("2026-11-16T08:00:00.000Z", "good")
    assert "=" not in token and "/" not in token and "+" not in token  # fits a URL path as it is


@pytest.mark.parametrize(
    ("now", "opens"),
    [
        (NOW, True),
        (WEEK - timedelta(seconds=1), True),
        (WEEK, True),  # up to its last second
        (WEEK + timedelta(seconds=1), False),
        (WEEK + timedelta(days=400), False),
    ],
)
def test_a_link_opens_until_it_expires(now, opens):
    token = links.sign("confirm", "PR-1", WEEK)
    if opens:
        assert links.verify(token, "confirm", now)["t"] == "PR-1"
    else:
        with pytest.raises(links.Expired) as gone:
            links.verify(token, "confirm", now)
        assert gone.value.status == 410


def test_expiry_is_days_from_now():
    assert links.expiry(NOW, 14) == NOW + timedelta(days=14)
    assert links.expiry(NOW, 0.5) == NOW + timedelta(hours=12)


def test_a_link_for_one_purpose_does_not_open_another():
    token = links.sign("confirm", "PR-1", WEEK)
    with pytest.raises(Forbidden):
        links.verify(token, "rate", NOW)


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def tampered() -> list[tuple[str, str]]:
    token = links.sign("confirm", "PR-1", WEEK)
    body, signature = token.split(".")
    other_ticket = links.sign("confirm", "PR-2", WEEK).split(".")[0]
    return [
        ("a character of the payload changed", f"{_flip(body, 5)}.{signature}"),
        ("a character of the signature changed", f"{body}.{_flip(signature, 3)}"),
        ("another ticket's payload under this signature", f"{other_ticket}.{signature}"),
        ("the signature cut short", f"{body}.{signature[:-4]}"),
        ("no signature", f"{body}."),
        ("no dot at all", body),
        ("empty", ""),
        ("a dot", "."),
        ("not base64", "!!!.???"),
        ("non-ASCII", "пр.иві"),
    ]


@pytest.mark.parametrize(("how", "token"), tampered(), ids=[how for how, _ in tampered()])
def test_a_changed_link_is_refused(how, token):
    with pytest.raises(Forbidden) as refused:
        links.verify(token, "confirm", NOW)
    assert refused.value.status == 403


def test_a_link_signed_with_another_secret_is_refused():
    token = forge({"p": "confirm", "t": "PR-1", "e": int(WEEK.timestamp())}, secret="another desk's secret")
    with pytest.raises(Forbidden):
        links.verify(token, "confirm", NOW)


def test_a_link_is_refused_once_the_secret_is_rotated(monkeypatch):
    token = links.sign("confirm", "PR-1", WEEK)
    monkeypatch.setenv("PROMPTLY_SECRET_LINK_SECRET", "rotated")
    with pytest.raises(Forbidden):
        links.verify(token, "confirm", NOW)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"p": "confirm", "t": "PR-1", "e": int(WEEK.timestamp())}, None),  # forge writes the real format
        (["confirm", "PR-1"], Forbidden),  # not an object
        ({"t": "PR-1", "e": int(WEEK.timestamp())}, Forbidden),  # no purpose
        ({"p": "confirm", "t": "PR-1"}, links.Expired),  # no expiry: never valid
        ({"p": "confirm", "t": "PR-1", "e": str(int(WEEK.timestamp()))}, links.Expired),  # expiry not a number
        ({"p": "confirm", "t": "PR-1", "e": WEEK.timestamp() + 0.5}, links.Expired),
    ],
)
def test_a_genuinely_signed_payload_of_the_wrong_shape_is_refused(payload, error):
    token = forge(payload)
    if error is None:
        assert links.verify(token, "confirm", NOW)["t"] == "PR-1"
    else:
        with pytest.raises(error):
            links.verify(token, "confirm", NOW)
