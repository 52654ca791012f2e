"""The console's frame: its words in every language, where sign-in returns to, what a signed-out
list refresh is told, and what one signed-in page costs in DynamoDB calls."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from chalicelib.console import web, words
from tests.console.pages import HTMX, codes_mailed, get, page, post, set_cookies, sign_in

OLENA = "olena@promptly.example"


def test_every_language_has_every_word_and_no_part_repeats_a_key():
    english = words.parts("en")
    for language in words.languages():
        theirs = words.parts(language)
        assert set(theirs) == set(english), language
        for part, entries in english.items():
            assert set(theirs[part]) == set(entries), (language, part, set(entries) ^ set(theirs[part]))
        keys = [key for entries in theirs.values() for key in entries]
        assert len(keys) == len(set(keys)), language
    assert set(words.languages()) >= {"en", "uk", "ru"}


@pytest.mark.parametrize(
    ("candidate", "kept"),
    [
        ("/console/t/PR-7K3QX9M2", True),
        ("/console/queue?view=mine&page=2", True),
        ("//evil.example/console", False),
        ("https://evil.example/console", False),
        ("/console/../api/me", True),  # a path the browser resolves inside our origin: harmless
        ("/consolex", False),
        ("/console\\@evil.example", False),
        ("/api/tickets", False),
        ("/console/t/x" + "a" * 400, False),
    ],
)
def test_sign_in_returns_only_to_a_console_path(candidate, kept):
    assert (web.safe_next(candidate) == candidate) is kept


def test_a_signed_out_link_signs_in_and_lands_where_it_pointed(desk, team):
    wanted = "/console?view=mine"
    first = get(desk, wanted)
    assert first.status_code == 303
    assert first.headers["Location"] == f"http://127.0.0.1:8000/console/sign-in?next={quote(wanted, safe='')}"
    shown = page(get(desk, "/console/sign-in?next=" + quote(wanted, safe="")))
    assert shown.form("/console/sign-in")["fields"]["next"] == wanted
    asked = page(post(desk, "/console/sign-in", {"email": OLENA, "next": wanted}))
    assert asked.form("/sign-in/code")["fields"]["next"] == wanted
    [code] = codes_mailed(desk, OLENA)
    entered = post(desk, "/console/sign-in/code", {"email": OLENA, "code": code, "next": wanted})
    assert entered.status_code == 303
    assert entered.headers["Location"] == "http://127.0.0.1:8000" + wanted


def test_a_forged_next_goes_to_the_console_instead(desk, team):
    post(desk, "/console/sign-in", {"email": OLENA})
    [code] = codes_mailed(desk, OLENA)
    entered = post(desk, "/console/sign-in/code", {"email": OLENA, "code": code, "next": "//evil.example/x"})
    assert entered.headers["Location"] == "http://127.0.0.1:8000/console"


def test_a_list_refreshing_itself_after_the_session_ended_is_sent_to_sign_in_as_a_whole_page(desk, team):
    refreshed = get(desk, "/console", headers=HTMX)
    assert refreshed.status_code == 200
    assert refreshed.headers["HX-Redirect"].startswith("http://127.0.0.1:8000/console/sign-in")
    assert refreshed.body == b""


def test_a_signed_in_page_reads_the_session_and_the_agent_in_one_call(desk, team, dynamodb_calls):
    cookie = sign_in(desk, OLENA)
    dynamodb_calls.clear()
    home = get(desk, "/console", cookie)
    assert home.status_code == 303 and home.headers["Location"] == "http://127.0.0.1:8000/console/queue"
    assert dynamodb_calls == [("TransactGetItems", "agents,keys")]


def test_a_cookie_naming_another_agent_is_no_session(desk, team):
    cookie = sign_in(desk, OLENA)
    name, value = cookie.split("=", 1)
    agent_id, _, token = value.rpartition(".")
    other = team["taras"]["id"] if "taras" in team else next(v["id"] for k, v in team.items() if v["id"] != agent_id)
    forged = f"{name}={other}.{token}"
    assert get(desk, "/console/queue", forged).status_code == 303
    assert set_cookies(get(desk, "/console/queue", forged))  # the dead cookie is cleared
