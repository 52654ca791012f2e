"""Working a ticket from its page: an answer reaches the customer signed with the agent's name, a
note never leaves the desk, a double submit sends one answer, a reply written without seeing news
is held with its draft kept, take / hand over / assign / status / priority do what the JSON API
does, and the page's heartbeat shows who else is there — each POST only from the console's own
page, only for whom the API allows it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.agents import staff
from chalicelib.models import Agent, Message, Ticket
from tests.console.pages import HTMX, Page, csrf_of, page, post, sign_in, tables
from tests.console.test_ticket_page import ADA, LEV, OLENA, TARAS, TINA, api, ticket_page
from tests.test_agent_api import new_ticket
from tests.test_channels import telegram_update

PAGE = "http://127.0.0.1:8000/console/t/"


def composer(shown: Page) -> dict[str, str]:
    return dict(shown.form("/send")["fields"])


def send(
    desk: Any, cookie: str, ticket_id: str, text: str, *, mode: str = "reply", then: str = "send", form: Any = None
) -> Any:
    """Type `text` into the composer of the page as it is now (or the form given) and press a button."""
    fields = composer(form if form is not None else ticket_page(desk, ticket_id, cookie))
    return post(
        desk, f"/console/t/{ticket_id}/send", {**fields, "text": text, "mode": mode, "then": then}, cookie=cookie
    )


def answers(ticket_id: str) -> list[Message]:
    return [m for m in Message.query(ticket_id) if m.direction == "out" and m.kind == "answer"]


def mails_to(desk: Any, address: str) -> list[dict[str, Any]]:
    desk.pump()
    return [mail for mail in desk.sent_mail() if address in mail["to"] and mail["subject"].startswith("Re:")]


# --- the composer --------------------------------------------------------------------------------
def test_a_reply_reaches_the_customer_signed_with_the_agents_name(desk, team):
    ticket_id = new_ticket(desk)
    desk.pump()
    cookie = sign_in(desk, OLENA)

    sent = send(desk, cookie, ticket_id, "Please reset your password with the link on the login page.")

    [answer] = answers(ticket_id)
    assert sent.status_code == 303 and sent.headers["Location"] == f"{PAGE}{ticket_id}#m-{answer.message_id}"
    [mail] = mails_to(desk, "olga@example.com")
    assert "Please reset your password" in mail["text"] and "Olena Koval" in mail["text"]
    shown = ticket_page(desk, ticket_id, cookie)
    [entry] = shown.css("#thread li.entry.answer")
    assert entry.css_first(".who").text() == "Olena Koval"
    ticket = Ticket.get(ticket_id)
    assert (ticket.assignee, ticket.assignee_name, ticket.status) == (team["olena"]["id"], "Olena Koval", "open")
    assert "Owner: Olena Koval (you)" in shown.one(".ticket-facts").text()


def test_a_note_is_never_sent_to_the_customer(desk, team):
    ticket_id = new_ticket(desk)
    desk.pump()
    cookie = sign_in(desk, OLENA)
    mails_before = len(desk.sent_mail())

    noted = send(desk, cookie, ticket_id, "SECRET: legacy plan", mode="note", then="note")

    desk.pump()
    assert noted.status_code == 303
    assert len(desk.sent_mail()) == mails_before
    assert all("SECRET" not in mail["text"] for mail in desk.sent_mail())
    [note] = [m for m in Message.query(ticket_id) if "SECRET" in m.body]
    assert note.direction == "note" and note.author_name == "Olena Koval"
    assert Ticket.get(ticket_id).assignee is None  # a note takes nothing


@pytest.mark.parametrize(("mode", "then"), [("note", "send"), ("reply", "note"), ("reply", ""), ("x", "send")])
def test_a_button_of_the_other_mode_sends_nothing_and_keeps_the_draft(desk, team, mode, then):
    ticket_id = new_ticket(desk)
    cookie = sign_in(desk, OLENA)

    refused = send(desk, cookie, ticket_id, "my careful draft", mode=mode, then=then)

    assert refused.status_code == 400
    assert page(refused).one("#composer-text").text() == "my careful draft"
    assert answers(ticket_id) == [] and [m for m in Message.query(ticket_id) if m.direction == "note"] == []


def test_an_empty_answer_is_refused_with_the_apis_words(desk, team):
    ticket_id = new_ticket(desk)

    refused = send(desk, sign_in(desk, OLENA), ticket_id, "   ")

    assert refused.status_code == 400 and "text: must not be empty" in page(refused).one(".problem").text()


def test_a_double_submit_sends_one_answer(desk, team):
    ticket_id = new_ticket(desk)
    desk.pump()
    cookie = sign_in(desk, OLENA)
    form = ticket_page(desk, ticket_id, cookie)

    first = send(desk, cookie, ticket_id, "Only once, please.", form=form)
    second = send(desk, cookie, ticket_id, "Only once, please.", form=form)

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(answers(ticket_id)) == 1
    assert len(mails_to(desk, "olga@example.com")) == 1


def test_a_double_submitted_note_is_added_once(desk, team):
    ticket_id = new_ticket(desk)
    cookie = sign_in(desk, OLENA)
    form = ticket_page(desk, ticket_id, cookie)

    for _ in range(2):
        assert send(desk, cookie, ticket_id, "noted once", mode="note", then="note", form=form).status_code == 303

    assert len([m for m in Message.query(ticket_id) if m.direction == "note"]) == 1


def test_send_and_solve_and_send_and_set_pending(desk, team):
    solved_id, pending_id = new_ticket(desk), new_ticket(desk, submission_id="s2", email="b@example.com")
    desk.pump()
    cookie = sign_in(desk, OLENA)
    shown = ticket_page(desk, solved_id, cookie)
    assert [b.attributes["value"] for b in shown.css("#composer button.reply-only")] == ["send", "pending", "solved"]

    assert send(desk, cookie, solved_id, "Done: your account is unlocked.", then="solved").status_code == 303
    assert send(desk, cookie, pending_id, "Which browser do you use?", then="pending").status_code == 303

    assert Ticket.get(solved_id).status == "solved" and Ticket.get(pending_id).status == "pending"
    assert len(answers(solved_id)) == len(answers(pending_id)) == 1
    desk.pump()
    assert {m.kind for m in Message.query(solved_id) if m.direction == "out"} == {"ack", "answer", "solved"}


# --- stale replies (Traffic Cop) -----------------------------------------------------------------
def test_a_reply_written_before_the_customer_wrote_again_is_held_with_the_draft_kept(desk, team, providers):
    desk.post_telegram(telegram_update(text="Payment failed"))
    [ticket] = list(Ticket.scan())
    cookie = sign_in(desk, OLENA)
    opened = ticket_page(desk, ticket.ticket_id, cookie)
    desk.advance(timedelta(minutes=1))
    desk.post_telegram(telegram_update(update_id=10002, text="Also, the card was charged twice!"))

    held = send(desk, cookie, ticket.ticket_id, "Please try again.", form=opened)

    assert held.status_code == 409
    shown = page(held)
    assert "charged twice" in shown.one(".held").text()
    assert shown.one("#composer-text").text() == "Please try again."
    assert shown.one("#composer button.send").text() == "Send anyway"
    assert shown.css(".problem") == []  # the held news says why
    assert answers(ticket.ticket_id) == []

    anyway = post(
        desk, f"/console/t/{ticket.ticket_id}/send", {**composer(shown), "mode": "reply", "then": "send"}, cookie=cookie
    )

    assert anyway.status_code == 303
    [answer] = answers(ticket.ticket_id)
    assert answer.body == "Please try again."


def test_another_agents_note_holds_a_reply_but_the_agents_own_note_does_not(desk, team):
    ticket_id = new_ticket(desk)
    desk.pump()
    olena = sign_in(desk, OLENA)
    # the clock stands still: every entry is written in the same millisecond, which the marker tells apart
    opened = ticket_page(desk, ticket_id, olena)
    api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/notes", {"text": "my own note"})
    assert send(desk, olena, ticket_id, "first answer", form=opened).status_code == 303  # her own note is no news

    opened = ticket_page(desk, ticket_id, olena)
    api(desk, team, "taras", "POST", f"/api/tickets/{ticket_id}/notes", {"text": "Careful: refund already done"})
    held = send(desk, olena, ticket_id, "second answer", form=opened)

    assert held.status_code == 409 and "refund already done" in page(held).one(".held").text()
    assert [a.body for a in answers(ticket_id)] == ["first answer"]


def test_an_unchanged_ticket_sends_without_reading_the_conversation(desk, team, dynamodb_calls):
    ticket_id = new_ticket(desk)
    desk.pump()
    cookie = sign_in(desk, OLENA)
    form = ticket_page(desk, ticket_id, cookie)
    dynamodb_calls.clear()

    send(desk, cookie, ticket_id, "Hello", form=form)

    assert ("Query", "messages") not in dynamodb_calls


# --- the other actions ---------------------------------------------------------------------------
def test_take_makes_the_agent_the_owner(desk, team):
    ticket_id = new_ticket(desk)
    cookie = sign_in(desk, OLENA)

    taken = post(desk, f"/console/t/{ticket_id}/take", {"csrf": csrf_of(desk, cookie)}, cookie=cookie)

    assert taken.status_code == 303 and taken.headers["Location"] == f"{PAGE}{ticket_id}"
    assert Ticket.get(ticket_id).assignee == team["olena"]["id"]
    assert Agent.get(team["olena"]["id"]).open_load == 1
    assert ticket_page(desk, ticket_id, cookie).css("#take") == []


def test_taking_someone_elses_ticket_is_refused_on_the_page(desk, team):
    ticket_id = new_ticket(desk)
    api(desk, team, "taras", "POST", f"/api/tickets/{ticket_id}/take")
    cookie = sign_in(desk, OLENA)

    refused = post(desk, f"/console/t/{ticket_id}/take", {"csrf": csrf_of(desk, cookie)}, cookie=cookie)

    assert refused.status_code == 409 and "owned by" in page(refused).one(".problem").text()
    assert Ticket.get(ticket_id).assignee == team["taras"]["id"]


def test_hand_over_to_an_agent_of_the_queue_with_a_reason(desk, team):
    ticket_id = new_ticket(desk)
    api(desk, team, "olena", "POST", f"/api/tickets/{ticket_id}/take")
    cookie = sign_in(desk, OLENA)
    people = page(desk.client.http.get(f"/console/t/{ticket_id}/people", headers={"Cookie": cookie, **HTMX}))
    choices = {o.text(): o.attributes["value"] for o in people.css("#handover-to option")}
    assert set(choices) == {"Ada Admin", "Lev Lead", "Taras Shevchuk"}  # the queue's people but its owner
    assert people.css("#assign-to") == []  # assigning is for leads

    fields = {"csrf": csrf_of(desk, cookie), "to": choices["Taras Shevchuk"], "reason": "going on sick leave"}
    handed = post(desk, f"/console/t/{ticket_id}/handover", fields, cookie=cookie)

    assert handed.status_code == 303
    ticket = Ticket.get(ticket_id)
    assert (ticket.assignee, ticket.assignee_name) == (team["taras"]["id"], "Taras Shevchuk")
    events = " ".join(node.text() for node in ticket_page(desk, ticket_id, cookie).css("li.entry.event"))
    assert "handed over to Taras Shevchuk: going on sick leave" in events


def test_a_hand_over_needs_its_reason(desk, team):
    ticket_id = new_ticket(desk)
    cookie = sign_in(desk, OLENA)

    refused = post(
        desk,
        f"/console/t/{ticket_id}/handover",
        {"csrf": csrf_of(desk, cookie), "to": team["taras"]["id"]},
        cookie=cookie,
    )

    assert refused.status_code == 400 and "reason" in page(refused).one(".problem").text()
    assert Ticket.get(ticket_id).assignee is None


def test_leads_assign_and_agents_may_not(desk, team):
    ticket_id = new_ticket(desk)
    lev, olena = sign_in(desk, LEV), sign_in(desk, OLENA)
    fields = {"to": team["olena"]["id"], "reason": "she knows this customer"}
    before = tables()

    refused = post(desk, f"/console/t/{ticket_id}/assign", {"csrf": csrf_of(desk, olena), **fields}, cookie=olena)
    assert refused.status_code == 403 and tables() == before

    assigned = post(desk, f"/console/t/{ticket_id}/assign", {"csrf": csrf_of(desk, lev), **fields}, cookie=lev)
    assert assigned.status_code == 303 and Ticket.get(ticket_id).assignee == team["olena"]["id"]


def test_status_moves_and_a_move_the_state_machine_forbids(desk, team):
    ticket_id = new_ticket(desk)
    cookie = sign_in(desk, OLENA)

    def move(status: str) -> Any:
        return post(
            desk, f"/console/t/{ticket_id}/status", {"csrf": csrf_of(desk, cookie), "status": status}, cookie=cookie
        )

    assert move("solved").status_code == 303 and Ticket.get(ticket_id).status == "solved"
    assert move("solved").status_code == 303  # a second click of the same button: it is so already
    refused = move("pending")
    assert refused.status_code == 409 and "cannot become pending" in page(refused).one(".problem").text()
    assert move("open").status_code == 303 and Ticket.get(ticket_id).status == "open"


def test_urgent_needs_its_reason(desk, team):
    ticket_id = new_ticket(desk)
    cookie = sign_in(desk, OLENA)
    path = f"/console/t/{ticket_id}/priority"

    refused = post(desk, path, {"csrf": csrf_of(desk, cookie), "priority": "urgent", "reason": " "}, cookie=cookie)
    assert refused.status_code == 400 and "urgent needs a stated reason" in page(refused).one(".problem").text()
    assert Ticket.get(ticket_id).priority == "normal"

    fields = {"csrf": csrf_of(desk, cookie), "priority": "urgent", "reason": "telephony is down"}
    assert post(desk, path, fields, cookie=cookie).status_code == 303
    ticket = Ticket.get(ticket_id)
    assert (ticket.priority, ticket.urgent_reason) == ("urgent", "telephony is down")
    shown = ticket_page(desk, ticket_id, cookie)
    assert "telephony is down" in shown.one(".ticket-facts").text()
    assert any("Normal → Urgent" in node.text() for node in shown.css("li.entry.event"))


# --- who may post, and from where ----------------------------------------------------------------
ACTIONS = {
    "send": {"mode": "note", "then": "note", "text": "x", "submit": "0f8e2b1c-3d4a-4b5c-9d6e-7f8091a2b3c4"},
    "take": {},
    "handover": {"to": "A-nobody", "reason": "x"},
    "assign": {"to": "A-nobody", "reason": "x"},
    "status": {"status": "solved"},
    "priority": {"priority": "high"},
    "presence": {"mode": "viewing"},
}


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing(desk, team, action):
    ticket_id = new_ticket(desk)
    cookie = sign_in(desk, OLENA)
    csrf_of(desk, cookie)
    before = tables()

    missing = post(desk, f"/console/t/{ticket_id}/{action}", ACTIONS[action], cookie=cookie)
    wrong = post(desk, f"/console/t/{ticket_id}/{action}", {**ACTIONS[action], "csrf": "0" * 64}, cookie=cookie)
    foreign = post(
        desk,
        f"/console/t/{ticket_id}/{action}",
        {**ACTIONS[action], "csrf": csrf_of(desk, cookie)},
        headers={"Origin": "https://evil.example"},
        cookie=cookie,
    )

    assert missing.status_code == wrong.status_code == foreign.status_code == 403
    assert tables() == before


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_is_for_those_the_api_lets_see_the_ticket(desk, team, action):
    ticket_id = new_ticket(desk)
    path = f"/console/t/{ticket_id}/{action}"
    tina = sign_in(desk, TINA)
    before = tables()

    other_queue = post(desk, path, {"csrf": csrf_of(desk, tina), **ACTIONS[action]}, cookie=tina)
    signed_out = post(desk, path, ACTIONS[action])

    # another queue's ticket is a 404, as in the API; assigning is refused for the role (403) first, as there
    assert other_queue.status_code == (403 if action == "assign" else 404) and signed_out.status_code == 303
    assert tables() == before
    assert "/console/sign-in" in signed_out.headers["Location"]
    taras = sign_in(desk, TARAS)
    token = csrf_of(desk, taras)
    staff.update_agent(team["taras"]["id"], {"active": False})
    before = tables()
    assert post(desk, path, {"csrf": token, **ACTIONS[action]}, cookie=taras).status_code == 303
    after = tables()
    assert all(after[name] == before[name] for name in ("promptly-local-tickets", "promptly-local-messages"))


@pytest.mark.parametrize("who", [LEV, ADA])
def test_leads_and_admins_work_any_queue(desk, team, who):
    ticket_id = new_ticket(desk, subject="Error 500 on login")  # tech
    cookie = sign_in(desk, who)

    assert send(desk, cookie, ticket_id, "On it.").status_code == 303
    assert len(answers(ticket_id)) == 1


# --- presence ------------------------------------------------------------------------------------
def beat(desk: Any, cookie: str, ticket_id: str, mode: str = "viewing", **extra: str) -> Page:
    fields = {"mode": mode, **extra}
    response = desk.client.http.post(
        f"/console/t/{ticket_id}/presence",
        headers={
            "Cookie": cookie,
            "X-CSRF-Token": csrf_of(desk, cookie),
            "Origin": "http://127.0.0.1:8000",
            **HTMX,
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body="&".join(f"{k}={v}" for k, v in fields.items()),
    )
    assert response.status_code == 200, response.body
    return page(response)


def test_another_agent_on_the_ticket_is_shown_replying_first_and_expires_after_30_seconds(desk, team):
    ticket_id = new_ticket(desk)
    olena, taras, lev = sign_in(desk, OLENA), sign_in(desk, TARAS), sign_in(desk, LEV)

    assert beat(desk, olena, ticket_id).css(".viewer") == []  # nobody else yet; never oneself
    beat(desk, lev, ticket_id, "replying")
    seen = beat(desk, taras, ticket_id)
    assert [v.text() for v in seen.css(".viewer")] == ["Lev Lead is replying", "Olena Koval is viewing"]
    assert "replying" in seen.css(".viewer")[0].attributes["class"]

    desk.advance(timedelta(seconds=20))
    beat(desk, olena, ticket_id)
    desk.advance(timedelta(seconds=15))  # Lev's beat is 35 s old, Olena's 15 s
    assert [v.text() for v in beat(desk, taras, ticket_id).css(".viewer")] == ["Olena Koval is viewing"]
    desk.advance(timedelta(seconds=31))
    assert beat(desk, taras, ticket_id).css(".viewer") == []


def test_a_beat_is_one_write_and_tells_of_news_the_page_does_not_show(desk, team, dynamodb_calls):
    ticket_id = new_ticket(desk)
    desk.pump()
    cookie = sign_in(desk, OLENA)
    shown = ticket_page(desk, ticket_id, cookie)
    marker = {
        name: shown.one(f"#presence-beat input[name={name}]").attributes["value"] for name in ("seen_version", "seen")
    }
    beat(desk, cookie, ticket_id, **marker)  # the first beat on a ticket makes its row (two writes, once)
    dynamodb_calls.clear()

    quiet = beat(desk, cookie, ticket_id, **marker)

    writes = [call for call in dynamodb_calls if call[0] in ("UpdateItem", "PutItem", "TransactWriteItems")]
    assert writes == [("UpdateItem", "keys")] and quiet.css(".news") == []
    desk.advance(timedelta(seconds=1))
    api(desk, team, "taras", "POST", f"/api/tickets/{ticket_id}/notes", {"text": "heads up"})
    assert "New since you opened it: 1." in beat(desk, cookie, ticket_id, **marker).one(".news").text()


def test_the_page_beats_from_its_own_form(desk, team):
    ticket_id = new_ticket(desk)
    shown = ticket_page(desk, ticket_id, sign_in(desk, OLENA))

    form = shown.one("form#presence-beat")

    assert form.attributes["hx-post"] == f"{PAGE}{ticket_id}/presence"
    assert form.attributes["hx-trigger"] == "load, every 10s, beat" and form.attributes["hx-target"] == "#presence"
    assert shown.one("#presence-mode").attributes["value"] == "viewing"
