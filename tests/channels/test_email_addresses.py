"""Property: whatever a sender writes into From and Reply-To, the address we answer (and the one
we take as the sender) is one written there as an address — never text from a display name."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.channels.email import MalformedEmail, parse_email

RECEIVED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
label = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
addresses = st.builds(
    lambda local, host, tld: f"{local}@{host}.{tld}",
    st.text("abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=10).filter(
        lambda local: not local.startswith(".") and not local.endswith(".") and ".." not in local
    ),
    label,
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=5),
)
# What an attacker puts in a display name: other addresses, separators, brackets, line breaks.
hostile_text = st.lists(
    st.one_of(
        addresses, st.sampled_from([",", ", ", "<", ">", '"', "\r\n", "Bcc: ", ";", ":", " ", "\\", "Ann", "Лєна", "@"])
    ),
    min_size=1,
    max_size=6,
).map("".join)


def b_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def q_word(text: str) -> str:
    """Q-encoding that leaves "@", "," and brackets as they are, as sloppy encoders do."""
    safe = set("abcdefghijklmnopqrstuvwxyz0123456789@,.<>+-")
    return "=?utf-8?q?" + "".join(c if c in safe else "".join(f"={b:02X}" for b in c.encode()) for c in text) + "?="


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\r\n", " ") + '"'


names = st.one_of(
    st.just(""), st.builds(b_word, hostile_text), st.builds(q_word, hostile_text), st.builds(quoted, hostile_text)
)
mailboxes = st.tuples(names, addresses)


def header(boxes: list[tuple[str, str]]) -> str:
    return ", ".join(f"{name} <{address}>" if name else address for name, address in boxes)


@settings(max_examples=300, deadline=None)
@given(st.lists(mailboxes, min_size=1, max_size=3), st.lists(mailboxes, max_size=2))
def test_the_chosen_address_is_always_one_written_as_an_address(senders, reply_to):
    raw = f"From: {header(senders)}\r\n"
    if reply_to:
        raw += f"Reply-To: {header(reply_to)}\r\n"
    raw += "Subject: hi\r\nMessage-ID: <m1@x.example>\r\n\r\nhello\r\n"
    try:
        inbound = parse_email(raw.encode(), received_at=RECEIVED, fallback_id="f")
    except MalformedEmail:
        return  # nobody to answer is a safe outcome
    written_from = {address.lower() for _, address in senders}
    assert inbound.address in written_from | {address.lower() for _, address in reply_to}
    assert inbound.email is None or inbound.email in written_from
    assert "\r" not in inbound.name and "\n" not in inbound.name
