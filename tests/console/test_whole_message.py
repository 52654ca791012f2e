"""Issue 17, "show the whole message": the ticket keeps only what the customer wrote, and under each
email the agent can open the mail as received — the quoted history and signature intake cut —
read again from the raw mail SES stored. In place with htmx (and folded away again), as a page of
its own without script, and as the JSON API's twin. Only for an agent who may see the ticket;
raw mail that expired is a 410 that says how long it is kept, S3 failing a 503, never a 500.
A forwarded mail is shown apart from the customer's note, labelled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from chalicelib import aws, stage
from chalicelib.attachments import opening
from chalicelib.channels import ses
from chalicelib.models import Message, Ticket
from tests.conftest import fixture_bytes
from tests.console.pages import HTMX, Page, get, page, sign_in
from tests.test_agent_api import new_ticket

OLENA = "olena@promptly.example"  # general and billing
TINA = "tina@promptly.example"  # the tech queue only
FORWARDED = "---------- Forwarded message ----------"


def reply_mail(in_reply_to: str, body: str) -> bytes:
    return (
        "From: Jane Doe <jane.doe@gmail.com>\nTo: support@promptly.example\n"
        "Subject: Re: Can't export my invoices to CSV\nMessage-ID: <reply-1@mail.gmail.com>\n"
        f"In-Reply-To: <{in_reply_to}>\nReferences: <{in_reply_to}>\n"
        "Content-Type: text/plain; charset=utf-8\n\n" + body
    ).encode()


REPLY = (
    "Still broken after clearing the cache.\n\n"
    "-- \nJane Doe | Finance | ACME Ltd\n\n"
    "On Mon, 23 Nov 2026 at 10:00, Promptly Support <support@promptly.example> wrote:\n"
    "> We received your request <script>alert(1)</script>\n"
    ">     A person from our team will answer by Monday\n"
)


def email_reply(desk: Any, body: str = REPLY) -> tuple[str, Message]:
    """Jane's mail opens a billing ticket; her reply to the acknowledgement joins it. The reply."""
    desk.deliver_email(fixture_bytes("email", "gmail_plain_en.eml"), key="mail/first")
    desk.pump()
    acknowledgement = next(m for m in desk.sent_mail() if "jane.doe@gmail.com" in m["to"])["message_id"].strip("<>")
    desk.advance(timedelta(minutes=20))
    desk.deliver_email(reply_mail(acknowledgement, body), key="mail/reply")
    [ticket] = [ticket for ticket in Ticket.scan() if ticket.channel == "email"]
    reply = [m for m in Message.query(ticket.ticket_id) if m.direction == "in"][-1]
    return ticket.ticket_id, reply


def entry_of(shown: Page, message: Message) -> Any:
    return shown.one(f"#m-{message.message_id}")


def whole_path(ticket_id: str, message: Message) -> str:
    return f"/console/t/{ticket_id}/messages/{opening.ref(message.message_key)}/original"


def api_path(ticket_id: str, message: Message) -> str:
    return f"/api/tickets/{ticket_id}/messages/{opening.ref(message.message_key)}/original"


# --- the control and what it opens ------------------------------------------------------------------
def test_an_email_reply_offers_the_whole_message_and_it_shows_what_intake_cut(desk, team):
    ticket_id, reply = email_reply(desk)
    cookie = sign_in(desk, OLENA)
    shown = page(get(desk, f"/console/t/{ticket_id}", cookie))

    entry = entry_of(shown, reply)
    assert entry.css_first(".body").text() == "Still broken after clearing the cache."  # stored: the cut text
    [control] = entry.css("a.whole-link")
    assert control.text() == "Show the whole message"
    href = str(control.attributes["href"])
    assert href == stage.public_url() + whole_path(ticket_id, reply)
    assert control.attributes["hx-get"] == href  # the same address, in place with htmx

    response = get(desk, href.removeprefix(stage.public_url()), cookie)  # without script: a page

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    whole = page(response)  # no <script> of the customer's survives as markup
    assert whole.css("header.bar") and whole.one("h1").text() == f"{ticket_id} · The whole message"
    assert whole.one(f"a[href$='#m-{reply.message_id}']").text() == "Back to the ticket"
    text = whole.one("pre.whole-text").text()
    assert text.startswith("Still broken after clearing the cache.\n\n-- \nJane Doe | Finance | ACME Ltd\n")
    assert "Promptly Support <support@promptly.example> wrote:" in text
    assert "> We received your request <script>alert(1)</script>" in text  # as text, escaped
    assert "&lt;script&gt;" in response.body.decode()
    assert [span.text() for span in whole.css("pre.whole-text span.quoted")] == [
        "> We received your request <script>alert(1)</script>",
        ">     A person from our team will answer by Monday",  # whitespace kept
    ]


def test_with_htmx_it_is_a_fragment_in_place_that_folds_away_again(desk, team):
    ticket_id, reply = email_reply(desk)
    cookie = sign_in(desk, OLENA)
    [control] = entry_of(page(get(desk, f"/console/t/{ticket_id}", cookie)), reply).css("a.whole-link")
    assert control.attributes["hx-target"] == "closest .whole-control"

    response = get(desk, whole_path(ticket_id, reply), cookie, HTMX)

    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.body.decode()
    assert "<html" not in body and "<header" not in body  # only the part that takes the link's place
    fragment = page(response)
    details = fragment.one("details.whole")
    assert "open" in details.attributes
    assert details.css_first("summary .when-open").text() == "Hide the whole message"
    assert details.css_first("summary .when-closed").text() == "Show the whole message"
    assert "wrote:" in details.css_first("pre.whole-text").text()


def test_the_first_mail_shows_the_signature_its_ticket_left_out(desk, team):
    ticket_id, _ = email_reply(desk)
    [first, _] = [m for m in Message.query(ticket_id) if m.direction == "in"]
    assert "ACME Ltd | +44" not in first.body

    response = get(desk, whole_path(ticket_id, first), sign_in(desk, OLENA))

    assert response.status_code == 200
    assert page(response).one("pre.whole-text").text().endswith("-- \nJane Doe | Finance | ACME Ltd | +44 20 7946 0321")


# --- who may open it, and what is not an email ------------------------------------------------------
def test_a_message_that_is_not_an_inbound_email_has_no_control_and_its_route_is_404(desk, team):
    form_ticket = new_ticket(desk)
    desk.pump()
    ticket_id, _ = email_reply(desk)
    cookie = sign_in(desk, OLENA)
    [form_message] = [m for m in Message.query(form_ticket) if m.direction == "in"]
    acknowledgements = [m for m in Message.query(ticket_id) if m.direction == "out"]
    assert acknowledgements

    assert page(get(desk, f"/console/t/{form_ticket}", cookie)).css("a.whole-link") == []
    assert [
        link
        for e in page(get(desk, f"/console/t/{ticket_id}", cookie)).css("li.entry.desk")
        for link in e.css("a.whole-link")
    ] == []
    for path in (whole_path(form_ticket, form_message), whole_path(ticket_id, acknowledgements[0])):
        refused = get(desk, path, cookie)
        assert refused.status_code == 404, path
        assert "Not found" in page(refused).words
        assert desk.api("GET", path.replace("/console/t/", "/api/tickets/"), team["olena"]["token"]).status_code == 404


@pytest.mark.parametrize(
    "segment",
    ["20261123T080000000Z.M-0123456789abcdef", "2026-11-23T08:00:00.000Z#M-1", "x", "20261123T080000000Z..", "%00"],
)
def test_a_forged_or_unknown_message_is_404_never_500(desk, team, segment):
    ticket_id, _ = email_reply(desk)
    path = f"/console/t/{ticket_id}/messages/{quote(segment, safe='')}/original"

    cookie = sign_in(desk, OLENA)
    assert get(desk, path, cookie).status_code == 404
    in_place = get(desk, path, cookie, HTMX)  # a fragment where the link was, not a whole page in the thread
    assert in_place.status_code == 404 and "<header" not in in_place.body.decode()
    assert page(in_place).one(".whole-problem").text() == "There is nothing here, or it is not in your queues."
    assert desk.api("GET", path.replace("/console/t/", "/api/tickets/"), team["olena"]["token"]).status_code == 404


def test_another_queues_agent_gets_the_same_404_as_for_no_ticket(desk, team):
    ticket_id, reply = email_reply(desk)  # billing

    refused = get(desk, whole_path(ticket_id, reply), sign_in(desk, TINA))

    assert refused.status_code == 404 and "wrote:" not in refused.body.decode()
    assert desk.api("GET", api_path(ticket_id, reply), team["tech"]["token"]).status_code == 404


def test_signed_out_it_goes_to_sign_in_and_comes_back(desk, team):
    ticket_id, reply = email_reply(desk)
    path = whole_path(ticket_id, reply)

    response = get(desk, path)

    assert response.status_code == 303
    assert response.headers["Location"] == f"{stage.public_url()}/console/sign-in?next={quote(path, safe='')}"


# --- raw mail gone, S3 failing ------------------------------------------------------------------------
def test_expired_raw_mail_is_410_saying_how_long_raw_mail_is_kept(desk, team, monkeypatch):
    monkeypatch.setenv("PROMPTLY_RAW_MAIL_DAYS", "30")  # what the stack tells a deployed stage
    ticket_id, reply = email_reply(desk)
    aws.client("s3").delete_object(Bucket=stage.inbound_bucket(), Key="mail/reply")  # the expiry rule's work
    cookie = sign_in(desk, OLENA)

    for headers in (None, HTMX):
        response = get(desk, whole_path(ticket_id, reply), cookie, headers)
        assert response.status_code == 410
        assert page(response).one(".whole-problem").text() == (
            "The original mail is no longer kept (raw mail is kept 30 days)."
        )
    answer = desk.api("GET", api_path(ticket_id, reply), team["olena"]["token"])
    assert answer.status_code == 410
    assert answer.json_body == {
        "Code": "Gone",
        "Message": "The original mail is no longer kept (raw mail is kept 30 days)",
    }
    assert "The original mail is no longer kept" in page(get(desk, whole_path(ticket_id, reply), cookie)).words


def denied(*_: Any, **__: Any) -> Any:
    raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")


def test_without_list_rights_a_mail_past_its_keeping_days_is_gone_and_a_younger_one_unavailable(
    desk, team, monkeypatch
):
    """The role may only GetObject under mail/: S3 then answers a key that no longer exists with 403."""
    monkeypatch.setenv("PROMPTLY_RAW_MAIL_DAYS", "30")
    ticket_id, reply = email_reply(desk)
    monkeypatch.setattr(ses, "fetch", denied)
    token = team["olena"]["token"]

    assert desk.api("GET", api_path(ticket_id, reply), token).status_code == 503  # a day old: not the expiry
    desk.advance(timedelta(days=31))
    assert desk.api("GET", api_path(ticket_id, reply), token).status_code == 410


@pytest.mark.parametrize(
    "failure",
    [
        ClientError({"Error": {"Code": "InternalError", "Message": "We encountered an internal error"}}, "GetObject"),
        ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your request rate"}}, "GetObject"),
        EndpointConnectionError(endpoint_url="https://s3.eu-central-1.amazonaws.com"),
    ],
    ids=["internal", "slow-down", "unreachable"],
)
def test_s3_failing_is_a_clear_503_never_a_500(desk, team, monkeypatch, failure):
    ticket_id, reply = email_reply(desk)

    def failing(*_: Any, **__: Any) -> Any:
        raise failure

    monkeypatch.setattr(ses, "fetch", failing)
    cookie = sign_in(desk, OLENA)

    for headers in (None, HTMX):
        response = get(desk, whole_path(ticket_id, reply), cookie, headers)
        assert response.status_code == 503
        assert page(response).one(".whole-problem").text().startswith("The original mail could not be read just now.")
    answer = desk.api("GET", api_path(ticket_id, reply), team["olena"]["token"])
    assert answer.status_code == 503 and answer.json_body["Code"] == "ServiceUnavailable"


# --- the JSON API's twin ---------------------------------------------------------------------------------
def test_the_api_lists_each_emails_original_and_gives_its_whole_text(desk, team):
    ticket_id, reply = email_reply(desk)
    token = team["olena"]["token"]
    conversation = desk.api("GET", f"/api/tickets/{ticket_id}", token).json_body["conversation"]
    originals = {entry["id"]: entry["original"] for entry in conversation}
    assert originals[reply.message_id] == api_path(ticket_id, reply)
    assert [entry["original"] for entry in conversation if entry["direction"] != "in"] == [None] * (
        len(conversation) - 2
    )

    answer = desk.api("GET", api_path(ticket_id, reply), token)

    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    raw = aws.client("s3").get_object(Bucket=stage.inbound_bucket(), Key="mail/reply")["Body"].read()
    assert answer.json_body == {"text": REPLY.strip(), "raw_size": len(raw)}
    assert desk.api("GET", api_path(ticket_id, reply), None).status_code == 401


# --- a forwarded mail in the thread -------------------------------------------------------------------
def test_a_forwarded_mail_is_shown_apart_from_the_customers_note_and_labelled(desk, team):
    ticket_id, reply = email_reply(desk)
    stored = (  # what the reply engine stores of a forward: the note, the one line, the mail verbatim
        "Could you look at this one from our bank?\n"
        f"{FORWARDED}\n"
        "From: Bank <noreply@bank.example>\nDate: Mon, 23 Nov 2026 at 09:00\nSubject: Payment refused\n\n"
        "Your payment of 120 EUR to Promptly was refused."
    )
    reply.update(actions=[Message.body.set(stored)])

    entry = entry_of(page(get(desk, f"/console/t/{ticket_id}", sign_in(desk, OLENA))), reply)

    assert entry.css_first("article > .body").text() == "Could you look at this one from our bank?"
    [block] = entry.css(".forwarded")
    assert block.attributes["aria-label"] == "Forwarded message"
    assert block.css_first(".forwarded-label").text() == "Forwarded message"
    assert block.css_first(".body").text() == (
        "From: Bank <noreply@bank.example>\nDate: Mon, 23 Nov 2026 at 09:00\nSubject: Payment refused\n\n"
        "Your payment of 120 EUR to Promptly was refused."
    )
    assert FORWARDED not in entry.text()


def test_a_bare_forward_is_only_the_labelled_block(desk, team):
    ticket_id, reply = email_reply(desk)
    reply.update(actions=[Message.body.set(f"{FORWARDED}\nHello from the forwarded mail.")])

    entry = entry_of(page(get(desk, f"/console/t/{ticket_id}", sign_in(desk, OLENA))), reply)

    assert entry.css("article > .body") == []
    assert entry.css_first(".forwarded .body").text() == "Hello from the forwarded mail."


def test_a_ukrainian_agent_is_offered_and_told_in_ukrainian(desk, team, monkeypatch):
    from chalicelib.agents import staff

    monkeypatch.setenv("PROMPTLY_RAW_MAIL_DAYS", "90")
    ticket_id, reply = email_reply(desk)
    cookie = sign_in(desk, OLENA)  # (her sign-in code's mail is worded in her language: English first)
    staff.update_agent(team["olena"]["id"], {"language": "uk"})
    [control] = entry_of(page(get(desk, f"/console/t/{ticket_id}", cookie)), reply).css("a.whole-link")
    assert control.text() == "Показати весь лист"

    aws.client("s3").delete_object(Bucket=stage.inbound_bucket(), Key="mail/reply")
    gone = page(get(desk, whole_path(ticket_id, reply), cookie, HTMX))

    assert gone.one(".whole-problem").text() == "Оригінал листа вже не зберігається (листи зберігаються 90 днів)."
