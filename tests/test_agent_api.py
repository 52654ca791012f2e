"""The agents' side: a personal token opens the agent's queues, ordered by what is due first;
answers go to the customer on their channel signed with the agent's name; notes never leave
the desk; ownership, handover, status and priority follow the desk's rules."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from chalicelib.models import Agent, Message, Ticket
from tests.harness import KYIV
from tests.test_channels import telegram_update

FORM = {
    "submission_id": "s1",
    "email": "olga@example.com",
    "name": "Olga",
    "subject": "Cannot log in",
    "message": "Hello, I cannot log in.",
}


def new_ticket(desk, **overrides) -> str:
    return desk.post_form({**FORM, **overrides}).json_body["ticket"]


def test_no_token_wrong_token_and_revoked_token_are_401(desk, team):
    assert desk.api("GET", "/api/tickets", None).status_code == 401
    assert desk.api("GET", "/api/tickets", "pt_nope_nope").status_code == 401
    token_id = team["olena"]["token"].split("_")[1]
    assert desk.api("DELETE", f"/api/tokens/{token_id}", team["admin"]["token"]).status_code == 200

    response = desk.api("GET", "/api/tickets", team["olena"]["token"])

    assert response.status_code == 401 and "revoked" in response.json_body["Message"]


def test_agent_lists_their_queues_soonest_due_first_with_a_countdown(desk, team):
    late = new_ticket(desk, submission_id="a", email="a@example.com")  # form: 4 business hours
    desk.advance(timedelta(minutes=5))
    soon = desk.post_telegram(telegram_update()).json_body  # telegram: 10 business minutes
    tech = new_ticket(desk, submission_id="t", email="t@example.com", subject="Error 500 on login")

    listing = desk.api("GET", "/api/tickets", team["olena"]["token"]).json_body["tickets"]

    refs = [t["ticket"] for t in listing]
    assert tech not in refs  # the tech queue is not Olena's
    assert refs.index(late) > 0 and listing[0]["channel"] == "telegram"
    assert listing[0]["sla"]["target"] == "first_response" and listing[0]["sla"]["seconds_left"] == 600
    assert soon == {"ok": True}


def test_an_agent_cannot_open_another_queues_ticket(desk, team):
    tech = new_ticket(desk, subject="Error 500 on login")

    assert desk.api("GET", f"/api/tickets/{tech}", team["olena"]["token"]).status_code == 404
    assert desk.api("GET", f"/api/tickets/{tech}", team["tech"]["token"]).status_code == 200
    assert desk.api("GET", f"/api/tickets/{tech}", team["lead"]["token"]).status_code == 200
    assert desk.api("GET", "/api/tickets?queue=tech", team["olena"]["token"]).status_code == 404


def test_answer_goes_to_the_customer_signed_and_stops_the_first_response_clock(desk, team):
    ticket_id = new_ticket(desk)
    desk.pump()

    response = desk.api(
        "POST",
        f"/api/tickets/{ticket_id}/reply",
        team["olena"]["token"],
        {"text": "Please reset your password with the link on the login page."},
    )
    desk.pump()

    assert response.status_code == 201
    ticket = Ticket.get(ticket_id)
    assert ticket.assignee == team["olena"]["id"] and ticket.status == "open"
    assert ticket.first_responded_at is not None
    answer = desk.sent_mail()[0]
    assert "Please reset your password" in answer["text"] and "Olena Koval" in answer["text"]
    assert answer["subject"] == f"Re: [{ticket_id}] Cannot log in"
    assert Agent.get(team["olena"]["id"]).open_load == 1


def test_answer_on_a_telegram_ticket_goes_out_through_telegram(desk, team, providers):
    desk.post_telegram(telegram_update(text="Привіт, питання про рахунок"))
    [ticket] = list(Ticket.scan())

    desk.api("POST", f"/api/tickets/{ticket.ticket_id}/reply", team["olena"]["token"], {"text": "Добрий день!"})
    desk.pump()

    answer = providers.messages("telegram")[-1]["payload"]
    assert answer["chat_id"] == 777 and "Добрий день!" in answer["text"] and "Olena Koval" in answer["text"]


def test_an_internal_note_is_never_sent_to_the_customer(desk, team, providers):
    desk.post_telegram(telegram_update())
    [ticket] = list(Ticket.scan())
    desk.pump()
    sent_before = len(providers.messages())

    desk.api(
        "POST",
        f"/api/tickets/{ticket.ticket_id}/notes",
        team["olena"]["token"],
        {"text": "SECRET: customer is on the legacy plan"},
    )
    desk.api("POST", f"/api/tickets/{ticket.ticket_id}/reply", team["olena"]["token"], {"text": "Hello!"})
    desk.pump()

    assert len(providers.messages()) == sent_before + 1
    assert all("SECRET" not in m["payload"].get("text", "") for m in providers.messages())
    conversation = desk.api("GET", f"/api/tickets/{ticket.ticket_id}", team["taras"]["token"]).json_body["conversation"]
    assert [e["direction"] for e in conversation if "SECRET" in e["body"]] == ["note"]


def test_handover_records_the_reason_and_the_new_owner_introduces_themselves_once(desk, team):
    ticket_id = new_ticket(desk)
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "Looking into it."})

    response = desk.api(
        "POST",
        f"/api/tickets/{ticket_id}/handover",
        team["olena"]["token"],
        {"to": team["taras"]["id"], "reason": "going on sick leave"},
    )
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["taras"]["token"], {"text": "Fixed it."})
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["taras"]["token"], {"text": "Anything else?"})
    desk.pump()

    assert response.status_code == 200 and response.json_body["assignee"] == team["taras"]["id"]
    answers = [m["text"] for m in reversed(desk.sent_mail()) if m["subject"].startswith("Re:")]
    assert ["I'm Taras Shevchuk" in text for text in answers] == [False, True, False]
    events = [m.body for m in Message.query(ticket_id) if m.direction == "event"]
    assert any("going on sick leave" in body for body in events)
    assert (Agent.get(team["olena"]["id"]).open_load, Agent.get(team["taras"]["id"]).open_load) == (0, 1)


def test_someone_elses_ticket_cannot_be_answered_or_handed_over_by_an_agent(desk, team):
    ticket_id = new_ticket(desk)
    desk.api("POST", f"/api/tickets/{ticket_id}/take", team["olena"]["token"])

    reply = desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["taras"]["token"], {"text": "Hi"})
    grab = desk.api("POST", f"/api/tickets/{ticket_id}/take", team["taras"]["token"])

    assert reply.status_code == 409 and "owned by" in reply.json_body["Message"]
    assert grab.status_code == 409
    assert Ticket.get(ticket_id).assignee == team["olena"]["id"]


def test_a_lead_reassigns_and_an_agent_may_not(desk, team):
    ticket_id = new_ticket(desk)
    body = {"to": team["taras"]["id"], "reason": "balancing load"}

    assert desk.api("POST", f"/api/tickets/{ticket_id}/assign", team["olena"]["token"], body).status_code == 403
    assert desk.api("POST", f"/api/tickets/{ticket_id}/assign", team["lead"]["token"], body).status_code == 200
    assert Ticket.get(ticket_id).assignee == team["taras"]["id"]


def test_two_agents_taking_the_same_ticket_at_once_exactly_one_wins(desk, team, monkeypatch):
    from chalicelib import tickets
    from chalicelib.agents import work

    ticket_id = new_ticket(desk)
    both_read = threading.Barrier(2)
    real_visible, real_commit = work.visible_ticket, tickets.commit
    one_at_a_time = threading.Lock()  # DynamoDB serializes transactions; moto in threads does not

    waited: set[int] = set()

    def visible_then_wait(actor, ticket_id, **options):
        ticket = real_visible(actor, ticket_id, **options)
        if threading.get_ident() not in waited:  # the loser reads again, alone, and finds it taken
            waited.add(threading.get_ident())
            both_read.wait(timeout=30)  # both agents now hold the same version of the ticket
        return ticket

    def serialized_commit(*args, **kwargs):
        with one_at_a_time:
            return real_commit(*args, **kwargs)

    monkeypatch.setattr(work, "visible_ticket", visible_then_wait)
    monkeypatch.setattr(tickets, "commit", serialized_commit)
    results: dict[str, int] = {}

    def grab(who: str) -> None:
        results[who] = desk.api("POST", f"/api/tickets/{ticket_id}/take", team[who]["token"]).status_code

    threads = [threading.Thread(target=grab, args=(who,)) for who in ("olena", "taras")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results.values()) == [200, 409]
    winner = next(who for who, code in results.items() if code == 200)
    assert Ticket.get(ticket_id).assignee == team[winner]["id"]
    loser = next(who for who in results if who != winner)
    assert Agent.get(team[loser]["id"]).open_load == 0


@pytest.mark.parametrize("action", ["take", "note", "answer", "solve"])
def test_an_action_that_crosses_the_desks_own_write_of_the_new_ticket_is_done_not_refused(
    desk, team, monkeypatch, action
):
    """The acknowledgement and routing's offer write a new ticket within its first second; an
    agent acting that moment read the version before theirs and must not get "reload and try again"."""
    from chalicelib.agents import work

    ticket_id = new_ticket(desk)
    real_visible = work.visible_ticket
    crossed: list[int] = []

    def read_then_the_desk_writes(actor, ticket_id, **options):
        ticket = real_visible(actor, ticket_id, **options)
        if not crossed:  # as the acknowledgement does: its own condition, not the version
            crossed.append(ticket.version)
            Ticket.get(ticket_id, consistent_read=True).update(
                actions=[Ticket.ack_state.set("sent")], add_version_condition=False
            )
        return ticket

    monkeypatch.setattr(work, "visible_ticket", read_then_the_desk_writes)
    token = team["olena"]["token"]
    path, body = {
        "take": ("take", None),
        "note": ("notes", {"text": "checked the logs"}),
        "answer": ("reply", {"text": "Try again now, please."}),
        "solve": ("status", {"status": "solved"}),
    }[action]
    done = desk.api("POST", f"/api/tickets/{ticket_id}/{path}", token, body)

    assert done.status_code in (200, 201), done.json_body
    stored = Ticket.get(ticket_id, consistent_read=True)
    assert crossed and stored.version > crossed[0] + 1  # the desk's write, then the agent's
    assert stored.ack_state == "sent"  # and the desk's write is kept, not overwritten
    trail = [entry for entry in Message.query(ticket_id) if entry.author == team["olena"]["id"]]
    assert len(trail) == 1  # done once, not once per try


def test_an_action_on_a_ticket_that_changes_under_every_try_is_a_409_saying_reload(desk, team, monkeypatch):
    from chalicelib.agents import work

    ticket_id = new_ticket(desk)
    real_visible = work.visible_ticket

    def read_then_someone_writes(actor, ticket_id, **options):
        ticket = real_visible(actor, ticket_id, **options)
        Ticket.get(ticket_id, consistent_read=True).update(
            actions=[Ticket.ack_state.set("sent")], add_version_condition=False
        )
        return ticket

    monkeypatch.setattr(work, "visible_ticket", read_then_someone_writes)
    refused = desk.api("POST", f"/api/tickets/{ticket_id}/take", team["olena"]["token"])

    assert refused.status_code == 409 and "reload and try again" in refused.json_body["Message"]
    assert Ticket.get(ticket_id, consistent_read=True).assignee is None


def test_pending_pauses_the_clock_and_moves_the_due_time_by_the_paused_business_time(desk, team):
    desk.at(datetime(2026, 11, 23, 10, 0, tzinfo=KYIV))  # Monday
    ticket_id = new_ticket(desk)  # first response due 14:00
    desk.api("POST", f"/api/tickets/{ticket_id}/take", team["olena"]["token"])
    desk.advance(timedelta(hours=1))
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "pending"})

    paused = desk.api("GET", "/api/tickets", team["olena"]["token"]).json_body["tickets"]
    desk.at(datetime(2026, 11, 24, 10, 0, tzinfo=KYIV))  # 8 business hours later (11:00 → 18:00, 09:00 → 10:00)
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "open"})

    assert paused[0]["paused"] is True and paused[0]["sla"] is None
    ticket = Ticket.get(ticket_id)
    # paused at 11:00 with 3 business hours left; resumed Tuesday 10:00 → due 13:00
    assert ticket.first_response_due == datetime(2026, 11, 24, 13, 0, tzinfo=KYIV)
    assert ticket.paused_total == 8 * 3600


@pytest.mark.parametrize(
    "path, start, target",
    [
        ("status", "closed", "open"),
        ("status", "closed", "solved"),
        ("status", "solved", "pending"),
        ("status", "new", "new"),
        ("status", "new", "deleted"),
    ],
)
def test_the_state_machine_rejects_invalid_transitions_with_409(desk, team, path, start, target):
    ticket_id = new_ticket(desk)
    if start != "new":
        assert (
            desk.api("POST", f"/api/tickets/{ticket_id}/status", team["lead"]["token"], {"status": start}).status_code
            == 200
        )

    response = desk.api("POST", f"/api/tickets/{ticket_id}/{path}", team["lead"]["token"], {"status": target})

    assert response.status_code == 409
    assert start in response.json_body["Message"] or "unknown status" in response.json_body["Message"]
    assert Ticket.get(ticket_id).status == start


def test_urgent_needs_a_reason_and_tightens_the_promise(desk, team):
    ticket_id = new_ticket(desk)

    refused = desk.api("POST", f"/api/tickets/{ticket_id}/priority", team["olena"]["token"], {"priority": "urgent"})
    accepted = desk.api(
        "POST",
        f"/api/tickets/{ticket_id}/priority",
        team["olena"]["token"],
        {"priority": "urgent", "reason": "telephony is down, we lose leads"},
    )

    assert refused.status_code == 400 and refused.json_body["Field"] == "reason"
    assert accepted.status_code == 200 and accepted.json_body["urgent_reason"] == "telephony is down, we lose leads"
    assert Ticket.get(ticket_id).first_response_due == datetime(2026, 11, 23, 11, 0, tzinfo=KYIV)  # 1 business hour


def test_solving_removes_the_ticket_from_the_live_list(desk, team):
    ticket_id = new_ticket(desk)
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "solved"})

    listing = desk.api("GET", "/api/tickets", team["olena"]["token"]).json_body["tickets"]

    assert ticket_id not in [t["ticket"] for t in listing]


def test_every_action_is_recorded_as_an_event(desk, team):
    ticket_id = new_ticket(desk)
    token = team["olena"]["token"]
    for path, body in (("take", None), ("priority", {"priority": "high"}), ("status", {"status": "pending"})):
        desk.advance(timedelta(seconds=30))
        desk.api("POST", f"/api/tickets/{ticket_id}/{path}", token, body)

    events = [(m.kind, m.author) for m in Message.query(ticket_id) if m.direction == "event"]

    assert events == [
        ("assignment", team["olena"]["id"]),
        ("priority", team["olena"]["id"]),
        ("status", team["olena"]["id"]),
    ]


def test_only_an_admin_creates_agents_and_nobody_changes_their_own_role(desk, team):
    new = {"first_name": "Nina", "last_name": "New", "email": "nina@promptly.example", "queues": ["general"]}

    assert desk.api("POST", "/api/agents", team["lead"]["token"], new).status_code == 403
    created = desk.api("POST", "/api/agents", team["admin"]["token"], new)
    promote = desk.api("PATCH", f"/api/agents/{team['olena']['id']}", team["olena"]["token"], {"role": "admin"})

    assert created.status_code == 201 and created.json_body["role"] == "agent"
    assert promote.status_code == 403 and Agent.get(team["olena"]["id"]).role == "agent"


def test_an_edit_made_on_a_stale_read_of_a_leader_is_a_409_and_keeps_the_digest_readers_right(desk, team, monkeypatch):
    from chalicelib.agents import staff

    lev = team["lead"]["id"]
    read_before = Agent.get(lev)
    assert desk.api("PATCH", f"/api/agents/{lev}", team["admin"]["token"], {"role": "agent"}).status_code == 200
    Agent(lev).update(actions=[Agent.open_load.add(2)])  # tickets assigned meanwhile
    monkeypatch.setattr(staff, "get_agent", lambda agent_id: read_before)  # another admin's page, loaded earlier

    stale = desk.api("PATCH", f"/api/agents/{lev}", team["admin"]["token"], {"alert_email": "lev@elsewhere.example"})
    monkeypatch.undo()
    fresh = desk.api("PATCH", f"/api/agents/{lev}", team["admin"]["token"], {"alert_email": "lev@elsewhere.example"})

    assert stale.status_code == 409 and lev not in staff.leaders()  # not re-added as the stale lead
    assert fresh.status_code == 200 and Agent.get(lev).open_load == 2  # the counter is not overwritten
    assert staff.leaders() == [team["admin"]["id"]]


def test_a_stage_whose_leaders_predate_their_key_gets_it_rebuilt_by_the_operator_tool(desk, team):
    from chalicelib import keys
    from chalicelib.agents import staff
    from chalicelib.models import Key
    from tools import create_admin

    Key.get(keys.STAFF_LEADERS).delete()  # as on a stage deployed before the key existed
    staff.update_agent(team["olena"]["id"], {"role": "lead"})  # an edit since: the key is being rebuilt

    assert create_admin.reindex() == sorted([team["admin"]["id"], team["lead"]["id"], team["olena"]["id"]])


@pytest.mark.parametrize("change", [{"role": "lead"}, {"active": False}])
def test_the_last_active_admin_cannot_demote_or_deactivate_themselves(desk, team, change):
    from chalicelib.agents import staff

    ada = team["admin"]["id"]

    refused = desk.api("PATCH", f"/api/agents/{ada}", team["admin"]["token"], change)

    assert refused.status_code == 409 and "last active admin" in refused.json_body["Message"]
    me = desk.api("GET", "/api/me", team["admin"]["token"]).json_body  # still signed in, still admin
    assert (me["role"], me["active"]) == ("admin", True) and staff.admins() == [ada]
    desk.api("PATCH", f"/api/agents/{team['lead']['id']}", team["admin"]["token"], {"role": "admin"})
    assert desk.api("PATCH", f"/api/agents/{ada}", team["admin"]["token"], change).status_code == 200
    assert staff.admins() == [team["lead"]["id"]]


def test_two_admins_demoting_each_other_at_once_leave_one_admin(desk, team, monkeypatch):
    from chalicelib.agents import staff

    ada, lev = team["admin"]["id"], team["lead"]["id"]
    desk.api("PATCH", f"/api/agents/{lev}", team["admin"]["token"], {"role": "admin"})
    both_read = threading.Barrier(2)
    real_get, real_commit = staff.get_agent, staff._commit
    one_at_a_time = threading.Lock()  # DynamoDB serializes transactions; moto in threads does not

    def read_then_wait(agent_id):
        agent = real_get(agent_id)
        both_read.wait()  # each admin has read the other as an active admin: two admins, as far as either knows
        return agent

    def serialized_commit(*args, **kwargs):
        with one_at_a_time:
            return real_commit(*args, **kwargs)

    monkeypatch.setattr(staff, "get_agent", read_then_wait)
    monkeypatch.setattr(staff, "_commit", serialized_commit)
    results: dict[str, object] = {}

    def demote(who: str, whom: str) -> None:
        results[who] = desk.api("PATCH", f"/api/agents/{whom}", team[who]["token"], {"role": "agent"})

    threads = [threading.Thread(target=demote, args=pair) for pair in (("admin", lev), ("lead", ada))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.undo()

    assert sorted(r.status_code for r in results.values()) == [200, 409]
    [refused] = [r for r in results.values() if r.status_code == 409]
    assert "last active admin" in refused.json_body["Message"]
    [left] = staff.admins()
    assert Agent.get(left).role == "admin" and [Agent.get(a).role for a in (ada, lev)].count("admin") == 1


def test_a_stage_whose_admins_predate_their_set_refuses_demotions_until_it_is_rebuilt(desk, team):
    from chalicelib import keys
    from chalicelib.agents import staff
    from chalicelib.models import Key
    from tools import create_admin

    lev = team["lead"]["id"]
    desk.api("PATCH", f"/api/agents/{lev}", team["admin"]["token"], {"role": "admin"})
    Key.get(keys.STAFF_ADMINS).delete()  # as on a stage deployed before the set existed

    before = desk.api("PATCH", f"/api/agents/{lev}", team["admin"]["token"], {"role": "lead"})
    create_admin.reindex()
    after = desk.api("PATCH", f"/api/agents/{lev}", team["admin"]["token"], {"role": "lead"})

    assert before.status_code == 409 and "--reindex-leaders" in before.json_body["Message"]
    assert after.status_code == 200 and staff.admins() == [team["admin"]["id"]]


def test_queue_leads_follow_every_edit_and_one_leads_change_never_drops_another(desk, team):
    from chalicelib.agents import staff

    lev, admin = team["lead"]["id"], team["admin"]["token"]
    lina = desk.api(
        "POST",
        "/api/agents",
        admin,
        {
            "first_name": "Lina",
            "last_name": "Lead",
            "role": "lead",
            "email": "lina@promptly.example",
            "queues": ["general", "billing"],
        },
    ).json_body["agent"]
    desk.api("PATCH", f"/api/agents/{lev}", admin, {"queues": ["tech"]})  # Lev leaves general and billing
    moved = {queue: staff.leads_of(queue) for queue in ("general", "billing", "tech")}
    desk.api("PATCH", f"/api/agents/{lina}", admin, {"active": False})

    assert moved == {"general": [lina], "billing": [lina], "tech": [lev]}
    assert staff.leads_of("general") == [] and staff.leads_of("tech") == [lev]


def test_a_stage_whose_queue_leads_predate_their_sets_gets_them_rebuilt(desk, team):
    from chalicelib.agents import staff
    from chalicelib.models import Key
    from tools import create_admin

    Key.get("leads#general").delete()

    create_admin.reindex()

    assert staff.leads_of("general") == [team["lead"]["id"]]


def test_a_new_agents_token_works_once_issued(desk, team):
    created = desk.api(
        "POST",
        "/api/agents",
        team["admin"]["token"],
        {"first_name": "Nina", "last_name": "New", "email": "nina@promptly.example"},
    ).json_body
    issued = desk.api("POST", f"/api/agents/{created['agent']}/tokens", team["admin"]["token"]).json_body

    me = desk.api("GET", "/api/me", issued["token"])

    assert me.status_code == 200 and me.json_body["first_name"] == "Nina"


def tokens_of(desk, team, who: str) -> dict[str, dict]:
    """`who`'s tokens by id, as an admin's listing shows them (the admin's call records no use of them)."""
    listing = desk.api("GET", f"/api/agents/{team[who]['id']}/tokens", team["admin"]["token"])
    assert listing.status_code == 200, listing.body
    return {token["token_id"]: token for token in listing.json_body["tokens"]}


def test_an_admin_issues_a_token_for_a_colleague_who_is_told_by_email(desk, team, caplog):
    from chalicelib.models import Key

    olena, ada = team["olena"]["id"], team["admin"]["id"]

    issued = desk.api("POST", f"/api/agents/{olena}/tokens", team["admin"]["token"])
    desk.pump()

    token_id, secret = issued.json_body["token_id"], issued.json_body["token"].split("_", 2)[2]
    assert issued.status_code == 201 and issued.json_body["expires_at"] == "2027-02-21T08:00:00.000Z"  # 90 days
    assert (Key.get(f"token#{token_id}").owner, Key.get(f"token#{token_id}").issued_by) == (olena, ada)
    [notice] = [m for m in desk.sent_mail() if "olena@promptly.example" in m["to"]]
    assert "Ada Admin" in notice["subject"] and token_id in notice["text"] and "21 February 2027" in notice["text"]
    assert secret not in notice["text"] and f"/api/tokens/{token_id}" in notice["text"]  # how to revoke it
    [audit] = [r for r in caplog.records if r.getMessage() == "token issued for another agent"]
    assert (audit.issued_by, audit.holder, audit.token_id) == (ada, olena, token_id)
    listed = tokens_of(desk, team, "olena")[token_id]
    assert (listed["issued_by"], listed["issued_at"], listed["expires_at"]) == (
        ada,
        "2026-11-23T08:00:00.000Z",
        "2027-02-21T08:00:00.000Z",
    )


def test_a_token_issued_for_oneself_is_listed_to_its_holder_only_and_never_shown_again(desk, team):
    issued = desk.api("POST", f"/api/agents/{team['olena']['id']}/tokens", team["olena"]["token"]).json_body
    desk.pump()

    own = desk.api("GET", f"/api/agents/{team['olena']['id']}/tokens", team["olena"]["token"])
    colleague = desk.api("GET", f"/api/agents/{team['taras']['id']}/tokens", team["olena"]["token"])

    assert own.status_code == 200 and colleague.status_code == 403
    assert {t["issued_by"] for t in own.json_body["tokens"]} == {team["olena"]["id"]}
    assert issued["token_id"] in {t["token_id"] for t in own.json_body["tokens"]}
    assert issued["token"].split("_", 2)[2] not in own.body.decode()
    assert not [m for m in desk.sent_mail() if "olena@promptly.example" in m["to"]]  # she knows: no mail


def test_a_token_stops_working_when_it_expires_and_says_so(desk, team):
    token = desk.api("POST", f"/api/agents/{team['olena']['id']}/tokens", team["olena"]["token"]).json_body["token"]

    desk.advance(timedelta(days=90) - timedelta(minutes=1))
    last_minute = desk.api("GET", "/api/me", token)
    desk.advance(timedelta(minutes=1))
    expired = desk.api("GET", "/api/me", token)

    assert last_minute.status_code == 200
    assert expired.status_code == 401 and "expired" in expired.json_body["Message"]


def test_the_last_use_of_a_token_is_recorded_at_most_every_five_minutes(desk, team):
    token, token_id = team["taras"]["token"], team["taras"]["token"].split("_")[1]
    uses = []
    for step in (timedelta(0), timedelta(minutes=4), timedelta(minutes=1)):
        desk.advance(step)
        assert desk.api("GET", "/api/me", token).status_code == 200
        uses.append(tokens_of(desk, team, "taras")[token_id]["last_used_at"])

    assert uses == ["2026-11-23T08:00:00.000Z", "2026-11-23T08:00:00.000Z", "2026-11-23T08:05:00.000Z"]


def test_a_token_from_before_expiry_is_listed_after_the_reindex_and_expires_a_lifetime_after_its_next_use(desk, team):
    from chalicelib.agents import tokens
    from chalicelib.models import Key
    from tools import create_admin

    Key("token#0ld0ld0ld0ld", owner=team["olena"]["id"], digest=tokens._digest("s3cret")).save()  # no dates, no set
    unlisted = tokens_of(desk, team, "olena")
    create_admin.reindex()
    desk.advance(timedelta(days=1))
    assert desk.api("GET", "/api/me", "pt_0ld0ld0ld0ld_s3cret").status_code == 200

    listed = tokens_of(desk, team, "olena")["0ld0ld0ld0ld"]
    desk.advance(timedelta(days=90))
    assert "0ld0ld0ld0ld" not in unlisted
    assert (listed["issued_by"], listed["expires_at"]) == (None, "2027-02-22T08:00:00.000Z")
    assert "expired" in desk.api("GET", "/api/me", "pt_0ld0ld0ld0ld_s3cret").json_body["Message"]


def test_lead_sets_the_weekly_roster(desk, team):
    body = {"agents": [team["olena"]["id"], team["taras"]["id"]]}

    assert desk.api("PUT", "/api/rosters/general/2026-W48", team["olena"]["token"], body).status_code == 403
    assert desk.api("PUT", "/api/rosters/general/2026-W48", team["lead"]["token"], body).status_code == 200
    assert desk.api("PUT", "/api/rosters/tech/2026-W48", team["lead"]["token"], body).status_code == 400
    got = desk.api("GET", "/api/rosters/general/2026-W48", team["olena"]["token"]).json_body
    assert got["agents"] == body["agents"]


def test_a_roster_is_read_by_the_queues_agents_leads_and_admins_only(desk, team):
    desk.api("PUT", "/api/rosters/general/2026-W48", team["lead"]["token"], {"agents": [team["olena"]["id"]]})

    outsider = desk.api("GET", "/api/rosters/general/2026-W48", team["tech"]["token"])  # Tina works tech only
    nowhere = desk.api("GET", "/api/rosters/nosuchqueue/2026-W48", team["tech"]["token"])
    readers = [
        desk.api("GET", "/api/rosters/general/2026-W48", team[who]["token"]) for who in ("taras", "lead", "admin")
    ]

    assert outsider.status_code == 404 and team["olena"]["id"] not in outsider.body.decode()
    assert outsider.json_body["Code"] == nowhere.json_body["Code"] == "NotFound"  # existence does not leak
    assert [r.json_body["agents"] for r in readers] == [[team["olena"]["id"]]] * 3


@pytest.mark.parametrize(
    "method, path, payload, code, field",
    [
        ("POST", "/api/tickets/{t}/reply", {}, 400, "text"),
        ("POST", "/api/tickets/{t}/reply", {"text": ""}, 400, "text"),
        ("POST", "/api/tickets/{t}/reply", {"text": "hi", "extra": 1}, 400, "extra"),
        ("POST", "/api/tickets/{t}/notes", {"text": 5}, 400, "text"),
        ("POST", "/api/tickets/{t}/handover", {"to": "A-x"}, 400, "reason"),
        ("POST", "/api/tickets/{t}/handover", {"to": "A-nobody", "reason": "x"}, 404, None),
        ("POST", "/api/tickets/{t}/priority", {"priority": "whenever"}, 400, "priority"),
        ("POST", "/api/tickets/PR-00000000/reply", {"text": "hi"}, 404, None),
        ("GET", "/api/tickets/PR-00000000", None, 404, None),
        ("POST", "/api/agents", {"first_name": "N", "last_name": "N", "email": "bad"}, 400, "email"),
        ("POST", "/api/agents", {"first_name": "N", "last_name": "N", "email": "n@x.io", "role": "god"}, 400, "role"),
        (
            "POST",
            "/api/agents",
            {"first_name": "N", "last_name": "N", "email": "n@x.io", "queues": ["nope"]},
            400,
            "queues",
        ),
        ("PUT", "/api/rosters/general/last-week", {"agents": []}, 400, "week"),
    ],
)
def test_bad_input_is_a_specific_error_and_changes_nothing(desk, team, method, path, payload, code, field):
    ticket_id = new_ticket(desk)
    before = Ticket.get(ticket_id)

    response = desk.api(method, path.format(t=ticket_id), team["admin"]["token"], payload)

    assert response.status_code == code, response.body
    if field:
        assert response.json_body["Field"] == field
    after = Ticket.get(ticket_id)
    assert (after.version, after.assignee, after.status) == (before.version, before.assignee, before.status)


def test_a_new_ticket_is_offered_to_the_on_duty_agent_with_the_lowest_load(desk, team):
    week = "2026-W48"  # Monday 23 November 2026
    desk.api(
        "PUT",
        f"/api/rosters/general/{week}",
        team["lead"]["token"],
        {"agents": [team["olena"]["id"], team["taras"]["id"]]},
    )
    busy = new_ticket(desk, submission_id="busy", email="b@example.com")
    desk.api("POST", f"/api/tickets/{busy}/take", team["olena"]["token"])

    fresh = new_ticket(desk, submission_id="fresh", email="f@example.com")
    desk.pump()

    ticket = Ticket.get(fresh)
    assert ticket.assignee == team["taras"]["id"]  # Olena already carries one
    assert any(m.author == "routing" for m in Message.query(fresh) if m.direction == "event")


def test_without_a_roster_the_ticket_waits_for_a_lead(desk, team):
    ticket_id = new_ticket(desk)
    desk.pump()

    assert Ticket.get(ticket_id).assignee is None


@pytest.mark.parametrize(
    "changes, field", [({"queues": None}, "queues"), ({"active": None}, "active"), ({"role": None}, "role")]
)
def test_null_is_not_a_value_for_an_agents_settings(desk, team, changes, field):
    response = desk.api("PATCH", f"/api/agents/{team['olena']['id']}", team["admin"]["token"], changes)

    assert response.status_code == 400 and response.json_body["Field"] == field
    assert Agent.get(team["olena"]["id"]).queues == ["general", "billing"]


def test_an_agent_cannot_solve_or_reprioritize_a_colleagues_ticket(desk, team):
    ticket_id = new_ticket(desk)
    desk.api("POST", f"/api/tickets/{ticket_id}/take", team["olena"]["token"])

    solve = desk.api("POST", f"/api/tickets/{ticket_id}/status", team["taras"]["token"], {"status": "solved"})
    urgent = desk.api(
        "POST",
        f"/api/tickets/{ticket_id}/priority",
        team["taras"]["token"],
        {"priority": "urgent", "reason": "I say so"},
    )

    assert (solve.status_code, urgent.status_code) == (409, 409)
    assert (Ticket.get(ticket_id).status, Ticket.get(ticket_id).priority) == ("new", "normal")


def test_an_agent_cannot_revoke_or_even_find_a_colleagues_token(desk, team):
    token_id = team["taras"]["token"].split("_")[1]

    response = desk.api("DELETE", f"/api/tokens/{token_id}", team["olena"]["token"])

    assert response.status_code == 404
    assert desk.api("GET", "/api/me", team["taras"]["token"]).status_code == 200


def test_answers_and_solving_leave_the_facts_the_digest_reads(desk, team):
    from chalicelib.models import Fact

    ticket_id = new_ticket(desk)  # Monday 10:00; first response due 14:00
    desk.advance(timedelta(minutes=42))
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "Try this."})
    desk.advance(timedelta(hours=1))
    desk.deliver_email(
        f"From: Olga <olga@example.com>\nSubject: Re: [{ticket_id}]\nMessage-ID: <f1@example.com>\n\nNo luck".encode(),
        key="ses-follow",
    )  # her reply from the address we wrote to
    desk.advance(timedelta(minutes=10))
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "Then this."})
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "solved"})

    facts = {f.kind: f.data for f in Fact.query("2026-11-23") if f.ticket_id == ticket_id}
    assert facts["first_response"]["seconds"] == 42 * 60 and facts["first_response"]["met"] is True
    assert facts["first_response"]["promised_at"] == "2026-11-23T12:00:00.000Z"
    assert facts["next_response"]["seconds"] == 10 * 60 and facts["next_response"]["agent"] == team["olena"]["id"]
    assert facts["solved"]["seconds"] == (42 + 60 + 10) * 60 and facts["solved"]["met"] is True


def test_the_ticket_shows_how_to_reach_the_customer_on_their_channel(desk, team, providers):
    from tests.test_channels import twilio_sms, viber_message

    new_ticket(desk)
    desk.post_telegram(telegram_update(chat_id=777))
    desk.post_viber(viber_message())
    desk.post_twilio(twilio_sms(sender="whatsapp:+380501234567"))
    desk.post_chat({"message_id": "m1", "visitor_id": "visitor-1", "text": "Hi", "email": "ann@example.com"})
    shown = {}
    for channel in ("form", "telegram", "viber", "whatsapp", "chat"):
        [ticket] = [t.ticket_id for t in Ticket.scan() if t.channel == channel]
        shown[channel] = desk.api("GET", f"/api/tickets/{ticket}", team["admin"]["token"]).json_body["contacts"]

    assert shown == {
        "form": {"email": "olga@example.com", "phone": None, "messenger": None},
        "telegram": {"email": None, "phone": None, "messenger": {"channel": "telegram", "id": "777"}},
        "viber": {"email": None, "phone": None, "messenger": {"channel": "viber", "id": "01234567890A="}},
        "whatsapp": {"email": None, "phone": "+380501234567", "messenger": None},
        "chat": {"email": "ann@example.com", "phone": None, "messenger": {"channel": "chat", "id": "visitor-1"}},
    }


def finish(desk, team, ticket: str, status: str) -> None:
    token = team["lead"]["token"]
    if status == "closed":
        assert desk.api("POST", f"/api/tickets/{ticket}/status", token, {"status": "solved"}).status_code == 200
    assert desk.api("POST", f"/api/tickets/{ticket}/status", token, {"status": status}).status_code == 200
    desk.advance(timedelta(minutes=1))


def done_pages(desk, token: str, query: str = "") -> list[list[str]]:
    """Every page of `view=done`, following `next`, as lists of ticket references."""
    pages, after = [], ""
    while True:
        answer = desk.api("GET", f"/api/tickets?view=done&limit=2{query}{after}", token)
        assert answer.status_code == 200, answer.body
        pages.append([ticket["ticket"] for ticket in answer.json_body["tickets"]])
        if answer.json_body["next"] is None:
            return pages
        after = f"&after={answer.json_body['next']}"


def test_solved_and_closed_tickets_are_listed_newest_first_a_page_at_a_time(desk, team):
    general = [new_ticket(desk, submission_id=f"g{n}", email=f"g{n}@example.com") for n in range(3)]
    billing = [new_ticket(desk, submission_id=f"b{n}", email=f"b{n}@example.com", subject="Refund") for n in range(2)]
    tech = new_ticket(desk, submission_id="t", email="t@example.com", subject="Error 500")
    still_open = new_ticket(desk, submission_id="o", email="o@example.com")
    for ticket, status in (
        (general[0], "closed"),
        (billing[0], "solved"),
        (tech, "solved"),
        (general[1], "solved"),
        (billing[1], "closed"),
        (general[2], "solved"),
    ):
        finish(desk, team, ticket, status)
    desk.api("POST", f"/api/tickets/{general[2]}/status", team["lead"]["token"], {"status": "open"})  # reopened

    lead = done_pages(desk, team["lead"]["token"])
    olena = done_pages(desk, team["olena"]["token"])  # general and billing only

    assert lead == [[billing[1], general[1]], [tech, billing[0]], [general[0]]]
    assert [ticket for page in olena for ticket in page] == [billing[1], general[1], billing[0], general[0]]
    assert done_pages(desk, team["lead"]["token"], "&queue=billing") == [[billing[1], billing[0]]]
    assert still_open not in str(lead) and general[2] not in str(lead)
    [shown] = desk.api("GET", "/api/tickets?view=done&limit=1", team["lead"]["token"]).json_body["tickets"]
    assert (shown["ticket"], shown["status"], shown["contacts"]["email"]) == (billing[1], "closed", "b1@example.com")


def test_a_page_of_finished_tickets_costs_a_keys_only_query_per_queue_and_one_batch_read(desk, team, monkeypatch):
    import botocore.client

    for n in range(3):
        finish(desk, team, new_ticket(desk, submission_id=f"g{n}", email=f"g{n}@example.com"), "closed")
    calls: list[tuple[str, str | None]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client, operation, params):
        if client.meta.service_model.service_name == "dynamodb":
            calls.append((operation, params.get("IndexName")))
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    desk.api("GET", "/api/tickets?view=done&limit=2", team["olena"]["token"])

    reads = [call for call in calls if call[0] in ("Query", "BatchGetItem", "Scan")]
    assert sorted(reads) == [("BatchGetItem", None), ("Query", "by_queue_done"), ("Query", "by_queue_done")]


@pytest.mark.parametrize(
    "query, field",
    [
        ("view=closed", "view"),
        ("view=done&limit=0", "limit"),
        ("view=done&limit=101", "limit"),
        ("view=done&limit=ten", "limit"),
        ("view=done&after=bm90LWEtY3Vyc29y", "after"),
        ("view=done&after=%25%25", "after"),
    ],
)
def test_a_list_the_desk_cannot_give_is_a_400_saying_which_parameter(desk, team, query, field):
    answer = desk.api("GET", f"/api/tickets?{query}", team["olena"]["token"])

    assert answer.status_code == 400 and answer.json_body["Field"] == field


def test_a_cursor_does_not_open_another_agents_queue(desk, team):
    import base64

    for n in range(3):
        finish(
            desk, team, new_ticket(desk, submission_id=f"t{n}", email=f"t{n}@example.com", subject="Error"), "closed"
        )
    forged = base64.urlsafe_b64encode(b'{"tech":null}').decode().rstrip("=")

    answer = desk.api("GET", f"/api/tickets?view=done&after={forged}", team["olena"]["token"])  # olena: no tech

    assert answer.status_code == 400 and answer.json_body["Field"] == "after"
