"""The local outbox reads only what is new: each look parses the mail sent since the last one."""

from __future__ import annotations

from chalicelib import devtools
from chalicelib.mail import send_from_desk
from chalicelib.render import Rendered


def _send(address: str) -> None:
    rendered = Rendered(subject=f"to {address}", text=f"hello {address}", html=f"<p>hello {address}</p>")
    send_from_desk(f"test-{address}", rendered, to=address, language="en")


def test_outbox_lists_every_mail_newest_first_parsing_each_once(desk):
    before = devtools.MAIL_INDEX.parsed
    for n in range(30):
        _send(f"c{n}@example.com")

    mail = desk.sent_mail()
    assert [m["to"] for m in mail] == [f"c{n}@example.com" for n in reversed(range(30))]
    assert mail[0]["subject"] == "to c29@example.com" and mail[0]["text"].strip() == "hello c29@example.com"
    assert devtools.MAIL_INDEX.parsed - before == 30

    for n in range(30, 33):
        _send(f"c{n}@example.com")
    mail = desk.sent_mail()
    assert [m["to"] for m in mail][:4] == ["c32@example.com", "c31@example.com", "c30@example.com", "c29@example.com"]
    assert len(mail) == 33
    assert devtools.MAIL_INDEX.parsed - before == 33  # only the three new ones were read

    page = desk.client.http.get("/dev/mail")
    assert page.status_code == 200 and b"Local outbox (33)" in page.body
    assert devtools.MAIL_INDEX.parsed - before == 33  # a look without new mail parses nothing


def test_a_fresh_embedded_aws_starts_an_empty_outbox(desk):
    _send("only@example.com")
    assert [m["to"] for m in desk.sent_mail()] == ["only@example.com"]
