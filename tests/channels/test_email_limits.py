"""Hostile mail still becomes a ticket: the customer's words first, and a note of what was
left unread, so the agent knows to open the original.

The parser is bounded (chalicelib/channels/mime_limits.py): parts, headers, parameters,
characters of text, a time budget. The hostile cases are built here at reduced size; how
long the full-size ones take is measured by bench/hostile_mail.py, never asserted here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.channels.base import Attachment, Inbound
from chalicelib.channels.email import MAX_ATTACHMENTS, MAX_HTML_DEPTH, parse_email
from chalicelib.channels.mime_limits import MAX_HEADERS, MAX_PARAMETERS, MAX_PARTS
from chalicelib.models import Message, Ticket

RECEIVED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CUSTOMER = "Hello, my order #4411 never arrived. Please help."
FULL_MAIL = " - the full mail is in the original email]"


def parse(raw: bytes, **options: object) -> Inbound:
    return parse_email(raw, received_at=RECEIVED, fallback_id="ses-id", **options)  # type: ignore[arg-type]


def mail(body: str, content_type: str = 'multipart/mixed; boundary="b"', headers: str = "") -> bytes:
    return (
        "From: Customer <customer@example.com>\r\nTo: support@promptly.example\r\nSubject: Order 4411\r\n"
        f"Message-ID: <m1@example.com>\r\n{headers}MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n"
        f"{body}"
    ).encode()


def with_parts(count: int) -> bytes:
    """The customer's text, then `count` tiny nameless attachments: `count` + 2 MIME parts
    with the multipart/mixed container."""
    parts = [f"--b\r\nContent-Type: text/plain\r\n\r\n{CUSTOMER}\r\n"]
    parts += ["--b\r\nContent-Disposition: attachment\r\n\r\nx\r\n"] * count
    return mail("".join(parts) + "--b--\r\n")


# --------------------------------------------------------------------------- parts


def test_a_mail_with_as_many_parts_as_the_cap_is_read_whole() -> None:
    inbound = parse(with_parts(MAX_PARTS - 2))

    assert inbound.truncated == ()
    assert inbound.body == f"{CUSTOMER}\n\n[{MAX_PARTS - 2 - MAX_ATTACHMENTS} more attachments not listed]"


def test_one_part_over_the_cap_is_counted_not_read() -> None:
    inbound = parse(with_parts(MAX_PARTS - 1))

    assert inbound.truncated == (f"1 MIME part not read (more than {MAX_PARTS} parts)",)
    assert inbound.body.startswith(f"{CUSTOMER}\n\n[{MAX_PARTS - 2 - MAX_ATTACHMENTS} more attachments not listed]")
    assert inbound.body.endswith(f"[left out: 1 MIME part not read (more than {MAX_PARTS} parts){FULL_MAIL}")
    assert len(inbound.attachments) == MAX_ATTACHMENTS


def test_thousands_of_tiny_parts_become_the_customers_text_and_a_count() -> None:
    # The full-size case (100,000 parts, 4.3 MB) took 24 s, past the Lambda's 30 s with S3 and intake.
    inbound = parse(with_parts(5_000))

    assert inbound.body.startswith(CUSTOMER)
    # every part past the cap is counted: those parsed in the last chunk and those never parsed
    assert inbound.truncated == (f"{5_002 - MAX_PARTS:,} MIME parts not read (more than {MAX_PARTS} parts)",)


def test_parts_nested_too_deep_are_counted_and_the_mail_survives() -> None:
    # Nested multiparts used to exhaust the stdlib parser's recursion: the mail was dropped.
    nested = "".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(5_000))
    body = (
        f"--b\r\nContent-Type: text/plain\r\n\r\n{CUSTOMER}\r\n"
        "--b\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    )

    inbound = parse(mail(body + nested))

    assert inbound.body.startswith(CUSTOMER)
    reasons = [note.split(" (")[1] for note in inbound.truncated]
    assert reasons == [f"more than {MAX_PARTS} parts)", "nested over 30 deep)"]


# --------------------------------------------------------------------------- headers and parameters


def test_thousands_of_parameters_are_dropped_but_boundary_and_file_name_kept() -> None:
    junk = "".join(f"; p{i}=v" for i in range(2_000))
    body = (
        f"--b\r\nContent-Type: text/plain\r\n\r\n{CUSTOMER}\r\n"
        f"--b\r\nContent-Type: application/pdf{junk}; name=scan.pdf\r\n"
        f'Content-Disposition: attachment{junk}; filename="scan.pdf"\r\n\r\nJVBERi0x\r\n--b--\r\n'
    )

    inbound = parse(mail(body, content_type=f'multipart/mixed{junk}; boundary="b"'))

    assert inbound.body.startswith(CUSTOMER)
    assert inbound.attachments == (Attachment("scan.pdf", "application/pdf", 8),)
    dropped = 3 * (2_000 + 1 - MAX_PARAMETERS)  # each of the three headers keeps MAX_PARAMETERS
    note = f"{dropped:,} MIME header parameters dropped (more than {MAX_PARAMETERS} in a header)"
    assert inbound.truncated == (note,)


def test_absurd_headers_are_cut_and_counted() -> None:
    relays = "".join(f"X-Relay: hop {i}\r\n" for i in range(MAX_HEADERS + 10))
    raw = mail(f"{CUSTOMER}\r\n", content_type="text/plain", headers=f"X-Junk: {'a' * 70_000}\r\n{relays}")

    inbound = parse(raw)

    assert (inbound.address, inbound.subject, inbound.body.split("\n")[0]) == (
        "customer@example.com",
        "Order 4411",
        CUSTOMER,
    )
    headers = 4 + 1 + (MAX_HEADERS + 10) + 2  # From..Message-ID, X-Junk, the relays, MIME-Version, Content-Type
    assert inbound.truncated == (
        "1 header cut at 65,536 characters",
        f"{headers - MAX_HEADERS} headers dropped (more than {MAX_HEADERS} in a part)",
    )


# --------------------------------------------------------------------------- text and time


def test_unterminated_html_tags_leave_the_text_before_them() -> None:
    # html.parser rescanned the rest of the document for each: 59 KiB of them took 15 s,
    # and its output then carried every one of them as text.
    raw = mail(f"<p>{CUSTOMER}</p>" + "<p class=x " * 3_000, content_type="text/html; charset=utf-8")

    inbound = parse(raw)

    assert (inbound.body, inbound.truncated) == (CUSTOMER, ())


def test_html_nested_deeper_than_browsers_allow_is_cut_there_and_said() -> None:
    # lexbor's tree building is quadratic in nesting: 80,000 <div> (400 kB) would take ~16 s.
    nested = "<div>" * (MAX_HTML_DEPTH + 100) + "never read"
    raw = mail(f"<div><p>{CUSTOMER}</p></div>" + nested, content_type="text/html; charset=utf-8")

    inbound = parse(raw)

    assert inbound.body.startswith(CUSTOMER)
    assert "never read" not in inbound.body
    assert inbound.truncated == ("1 HTML part cut where it nests too deep",)


def test_html_past_the_text_cap_is_cut_and_said() -> None:
    raw = mail(f"<p>{CUSTOMER}</p>" + "<div>&nbsp;</div>" * 30_000, content_type="text/html; charset=utf-8")

    inbound = parse(raw)

    assert inbound.body.startswith(CUSTOMER)
    assert inbound.truncated == ("1 text part cut or not read (over 400,000 characters in all)",)


def test_a_spent_budget_keeps_who_wrote_and_counts_every_part_left() -> None:
    inbound = parse(with_parts(1_000), budget=0)

    assert (inbound.address, inbound.subject) == ("customer@example.com", "Order 4411")
    assert inbound.truncated == ("1,001 MIME parts not read (reading took over 0 s)",)
    assert inbound.body.startswith("[left out: 1,001 MIME parts not read")


def test_only_the_first_bytes_of_a_larger_mail_is_said() -> None:
    raw = with_parts(100)  # a few kB

    assert parse(raw, size=25_000_000).truncated == (f"only the first {round(len(raw) / 1000)} kB of 25.0 MB read",)


# --------------------------------------------------------------------------- through the Lambda


def test_hostile_mail_from_ses_becomes_a_ticket_that_says_what_was_left_out(desk) -> None:
    desk.deliver_email(with_parts(2_000))

    [ticket] = list(Ticket.scan())
    [stored] = [m for m in Message.query(ticket.ticket_id) if m.direction == "in"]
    assert stored.body.startswith(CUSTOMER)
    assert stored.truncated == [f"{2_002 - MAX_PARTS:,} MIME parts not read (more than {MAX_PARTS} parts)"]


def test_mail_over_ten_megabytes_is_read_in_part_and_says_so(desk) -> None:
    attachment = "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=big.pdf\r\n\r\n"
    raw = mail(f"--b\r\nContent-Type: text/plain\r\n\r\n{CUSTOMER}\r\n{attachment}" + "A" * 11_000_000)

    desk.deliver_email(raw)

    [ticket] = list(Ticket.scan())
    [stored] = [m for m in Message.query(ticket.ticket_id) if m.direction == "in"]
    assert stored.body.startswith(CUSTOMER)
    assert stored.truncated == [f"only the first 10.5 MB of {len(raw) / 1e6:.1f} MB read"]
    [big] = stored.attachments
    assert (big["name"], big["state"]) == ("big.pdf", "refused")
    assert big["reason"] == f"cut off: only the first 10.5 MB of {len(raw) / 1e6:.1f} MB read"


def test_a_whole_mail_stores_no_note(desk) -> None:
    desk.deliver_email(with_parts(1))

    [ticket] = list(Ticket.scan())
    [stored] = [m for m in Message.query(ticket.ticket_id) if m.direction == "in"]
    assert (stored.body, stored.truncated) == (CUSTOMER, None)


def test_the_agent_sees_what_was_left_out_in_the_api(desk, team) -> None:
    desk.deliver_email(with_parts(2_000))
    [ticket] = list(Ticket.scan())

    shown = desk.api("GET", f"/api/tickets/{ticket.ticket_id}", team["admin"]["token"]).json_body

    [entry] = [e for e in shown["conversation"] if e["direction"] == "in"]
    assert entry["truncated"] == [f"{2_002 - MAX_PARTS:,} MIME parts not read (more than {MAX_PARTS} parts)"]
