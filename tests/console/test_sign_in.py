"""The console's sign-in and sessions, through Chalice's test client, pages read with an HTML5 parser."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.console.pages import (
    ORIGIN,
    SAME_SITE,
    codes_mailed,
    csrf_of,
    get,
    keys_table,
    page,
    post,
    set_cookies,
    sign_in,
    tables,
)

OLENA = "olena@promptly.example"


# --------------------------------------------------------------------------- sign-in


def test_the_code_arrives_by_mail_and_signs_in(desk, team):
    sign_in_page = get(desk, "/console/sign-in")
    assert sign_in_page.status_code == 200
    assert "email" in page(sign_in_page).forms[0]["fields"]

    asked = post(desk, "/console/sign-in", {"email": " Olena@Promptly.example "})
    assert asked.status_code == 200
    fields = page(asked).forms[0]["fields"]
    assert {name: fields[name] for name in ("email", "code")} == {"email": OLENA, "code": ""}
    assert set(fields) == {"email", "code", "door"}
    [code] = codes_mailed(desk, OLENA)

    entered = post(desk, "/console/sign-in/code", {"email": OLENA, "code": code})
    assert entered.status_code == 303
    assert entered.headers["Location"] == "http://127.0.0.1:8000/console"
    cookie = set_cookies(entered)[0].split(";")[0]

    home = get(desk, "/console", cookie)
    assert home.status_code == 303
    assert home.headers["Location"] == "http://127.0.0.1:8000/console/queue"
    queue = get(desk, "/console/queue", cookie)
    assert queue.status_code == 200
    assert "Olena Koval" in page(queue).words
    # a code works once
    assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": code}).status_code == 400


def test_the_code_is_stored_hashed_and_the_session_token_too(desk, team):
    post(desk, "/console/sign-in", {"email": OLENA})
    [code] = codes_mailed(desk, OLENA)
    assert code not in str(keys_table())
    cookie = sign_in(desk, OLENA)
    assert cookie.split("=", 1)[1] not in str(keys_table())


def test_the_session_cookie_flags_on_the_local_stage_over_http(desk, team):
    post(desk, "/console/sign-in", {"email": OLENA})
    [code] = codes_mailed(desk, OLENA)
    [line] = set_cookies(post(desk, "/console/sign-in/code", {"email": OLENA, "code": code}))
    flags = [part.strip() for part in line.split(";")]
    assert flags[0].startswith("promptly_session=")
    assert {"Path=/", "HttpOnly", "SameSite=Lax"} <= set(flags)
    assert "Secure" not in flags  # a browser drops a Secure cookie sent over http


def test_the_session_cookie_is_secure_and_host_prefixed_over_https(desk, team, monkeypatch):
    """Called directly: the test client sets the local stage's environment (http) on every request."""
    from chalicelib import clock
    from chalicelib.agents import staff
    from chalicelib.console import session

    monkeypatch.setenv("PROMPTLY_PUBLIC_URL", "https://desk.example")
    line = session.begin(staff.get_agent(team["olena"]["id"]), clock.now())
    flags = [part.strip() for part in line.split(";")]
    assert flags[0].startswith("__Host-promptly_session=")
    assert {"Path=/", "HttpOnly", "SameSite=Lax", "Secure"} <= set(flags)
    assert not any(flag.lower().startswith("domain") for flag in flags)
    monkeypatch.setenv("PROMPTLY_PUBLIC_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("PROMPTLY_STAGE", "dev")  # a deployed stage: Secure whatever the URL says
    assert session.clear_cookie().startswith("__Host-promptly_session=;")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(desk, team):
    known = post(desk, "/console/sign-in", {"email": OLENA})
    unknown = post(desk, "/console/sign-in", {"email": "nobody@promptly.example"})
    assert unknown.status_code == known.status_code == 200
    assert page(unknown).words.replace("nobody@promptly.example", OLENA) == page(known).words
    desk.pump()
    assert [mail for mail in desk.sent_mail() if "nobody" in mail["to"]] == []


def test_a_deactivated_agent_gets_no_code(desk, team):
    from chalicelib.agents import staff

    staff.update_agent(team["olena"]["id"], {"active": False})
    assert post(desk, "/console/sign-in", {"email": OLENA}).status_code == 200
    assert codes_mailed(desk, OLENA) == []


def test_a_code_expires_after_ten_minutes(desk, team):
    post(desk, "/console/sign-in", {"email": OLENA})
    [code] = codes_mailed(desk, OLENA)
    desk.advance(timedelta(minutes=10, seconds=1))
    refused = post(desk, "/console/sign-in/code", {"email": OLENA, "code": code})
    assert refused.status_code == 400
    assert "wrong, used up or expired" in page(refused).words
    assert set_cookies(refused) == []


def test_five_wrong_tries_use_the_code_up(desk, team):
    post(desk, "/console/sign-in", {"email": OLENA})
    [code] = codes_mailed(desk, OLENA)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": wrong}).status_code == 400
    assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": code}).status_code == 400
    # a new code works
    assert sign_in(desk, OLENA).startswith("promptly_session=")


def test_codes_are_rate_limited_per_address(desk, team):
    for _ in range(5):
        assert post(desk, "/console/sign-in", {"email": OLENA}).status_code == 200
    limited = post(desk, "/console/sign-in", {"email": OLENA})
    assert limited.status_code == 429
    assert len(codes_mailed(desk, OLENA)) == 5
    # an unknown address is limited alike: the limit tells nobody which addresses are agents'
    for _ in range(5):
        post(desk, "/console/sign-in", {"email": "nobody@promptly.example"})
    assert post(desk, "/console/sign-in", {"email": "nobody@promptly.example"}).status_code == 429
    desk.advance(timedelta(hours=1))
    assert post(desk, "/console/sign-in", {"email": OLENA}).status_code == 200


def test_codes_are_rate_limited_per_source(desk, team):
    for number in range(30):
        assert post(desk, "/console/sign-in", {"email": f"guess{number}@promptly.example"}).status_code == 200
    assert post(desk, "/console/sign-in", {"email": OLENA}).status_code == 429
    assert codes_mailed(desk, OLENA) == []


def test_not_an_address_is_a_400_page(desk, team):
    response = post(desk, "/console/sign-in", {"email": "<script>x</script>"})
    assert response.status_code == 400
    assert "<script>" not in response.body.decode()


# --------------------------------------------------------------------------- sessions


def test_signed_out_the_console_redirects_to_sign_in(desk, team):
    response = get(desk, "/console")
    assert response.status_code == 303
    assert response.headers["Location"] == "http://127.0.0.1:8000/console/sign-in"
    garbage = get(desk, "/console", "promptly_session=forged")
    assert garbage.status_code == 303
    assert any("Max-Age=0" in line for line in set_cookies(garbage))


def test_an_idle_session_ends(desk, team):
    cookie = sign_in(desk, OLENA)
    desk.advance(timedelta(hours=7, minutes=59))
    assert get(desk, "/console/queue", cookie).status_code == 200  # used: the idle clock starts again
    desk.advance(timedelta(hours=7, minutes=59))
    assert get(desk, "/console/queue", cookie).status_code == 200
    desk.advance(timedelta(hours=8, minutes=1))
    assert get(desk, "/console/queue", cookie).status_code == 303
    assert not [item for item in keys_table() if item["key"].startswith("session#")]


def test_a_session_ends_after_its_lifetime_however_used(desk, team):
    cookie = sign_in(desk, OLENA)
    for _ in range(7 * 24 // 6 - 1):
        desk.advance(timedelta(hours=6))
        assert get(desk, "/console/queue", cookie).status_code == 200
    desk.advance(timedelta(hours=12))
    assert get(desk, "/console/queue", cookie).status_code == 303


def test_the_idle_expiry_is_written_at_most_once_per_five_minutes(desk, team):
    cookie = sign_in(desk, OLENA)
    before = keys_table()
    desk.advance(timedelta(minutes=4))
    get(desk, "/console/queue", cookie)
    assert keys_table() == before
    desk.advance(timedelta(minutes=2))
    get(desk, "/console/queue", cookie)
    assert keys_table() != before


def test_sign_out_ends_the_session(desk, team):
    cookie = sign_in(desk, OLENA)
    response = post(desk, "/console/sign-out", {"csrf": csrf_of(desk, cookie)}, cookie=cookie)
    assert response.status_code == 303
    assert response.headers["Location"] == "http://127.0.0.1:8000/console/sign-in"
    assert any("Max-Age=0" in line for line in set_cookies(response))
    assert get(desk, "/console/queue", cookie).status_code == 303
    assert not [item for item in keys_table() if item["key"].startswith("session#")]


def test_deactivating_an_agent_ends_their_sessions(desk, team):
    from chalicelib.agents import staff

    first, second = sign_in(desk, OLENA), sign_in(desk, OLENA)
    staff.update_agent(team["olena"]["id"], {"active": False})
    assert get(desk, "/console/queue", first).status_code == 303
    assert get(desk, "/console/queue", second).status_code == 303
    assert not [item for item in keys_table() if item["key"].startswith("session#")]


# --------------------------------------------------------------------------- CSRF and origins


@pytest.mark.parametrize(
    ("fields", "headers"),
    [
        ({}, ORIGIN),  # no token
        ({"csrf": "0" * 64}, ORIGIN),  # a wrong token
        ("theirs", ORIGIN),  # another session's token
        ("right", {"Origin": "https://evil.example"}),  # the right token from another site
        ("right", {"Sec-Fetch-Site": "cross-site", **ORIGIN}),
        ("right", {}),  # neither Sec-Fetch-Site nor Origin
    ],
    ids=["missing", "wrong", "other-session", "foreign-origin", "cross-site", "no-origin"],
)
def test_sign_out_without_the_right_token_or_origin_is_refused_and_changes_nothing(desk, team, fields, headers):
    cookie = sign_in(desk, OLENA)
    if fields == "right":
        fields = {"csrf": csrf_of(desk, cookie)}
    elif fields == "theirs":
        fields = {"csrf": csrf_of(desk, sign_in(desk, "taras@promptly.example"))}
    before = tables()
    response = post(desk, "/console/sign-out", fields, headers, cookie=cookie)
    assert response.status_code == 403
    assert "Nothing was changed" in page(response).words
    assert tables() == before
    assert get(desk, "/console/queue", cookie).status_code == 200


def test_the_token_in_a_header_and_sec_fetch_site_same_origin_are_accepted(desk, team):
    cookie = sign_in(desk, OLENA)
    headers = {**SAME_SITE, "X-CSRF-Token": csrf_of(desk, cookie)}
    assert post(desk, "/console/sign-out", {}, headers, cookie=cookie).status_code == 303


def test_a_code_posted_from_another_site_is_refused(desk, team):
    post(desk, "/console/sign-in", {"email": OLENA})
    [code] = codes_mailed(desk, OLENA)
    before = tables()
    foreign = {"Origin": "https://evil.example"}
    assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": code}, foreign).status_code == 403
    assert post(desk, "/console/sign-in", {"email": OLENA}, foreign).status_code == 403
    assert tables() == before


# --------------------------------------------------------------------------- GETs, headers, API


def test_no_get_changes_anything(desk, team):
    cookie = sign_in(desk, OLENA)
    for path, with_cookie in [
        ("/console", ""),
        ("/console", cookie),
        ("/console/queue", ""),
        ("/console/queue", cookie),
        ("/console/sign-in", ""),
        ("/console/sign-in", cookie),
    ]:
        before = tables()
        get(desk, path, with_cookie)
        assert tables() == before, path


def test_console_pages_carry_the_security_headers(desk, team):
    cookie = sign_in(desk, OLENA)
    for response in (get(desk, "/console/sign-in"), get(desk, "/console/queue", cookie)):
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";")[0]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"


def test_the_console_takes_no_bearer_token_and_the_api_no_cookie(desk, team):
    bearer = {"Authorization": f"Bearer {team['olena']['token']}"}
    assert desk.client.http.get("/console/queue", headers=bearer).status_code == 303
    cookie = sign_in(desk, OLENA)
    assert desk.client.http.get("/api/me", headers={"Cookie": cookie}).status_code == 401


def test_names_are_escaped(desk, team):
    from chalicelib.agents import staff

    staff.create_agent(
        first_name="<b>Eve", last_name="</p>", email="eve@promptly.example", role="agent", queues=["general"]
    )
    home = get(desk, "/console/queue", sign_in(desk, "eve@promptly.example"))
    assert "<b>Eve" not in home.body.decode()
    assert "<b>Eve </p>" in page(home).words


# --------------------------------------------------------------------------- the code's job


def queued_jobs() -> list[dict[str, Any]]:
    """The outbox's waiting jobs, read without taking them."""
    import json

    from chalicelib import aws, stage

    sqs = aws.client("sqs")
    url = aws.queue_url(stage.outbox_queue())
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_the_request_does_the_same_work_for_any_address_and_the_job_carries_no_code(desk, team, monkeypatch):
    from chalicelib.agents import staff

    def no_lookup(email: str) -> None:
        raise AssertionError("the web request looked the agent up")

    with monkeypatch.context() as patched:
        patched.setattr(staff, "agent_by_email", no_lookup)
        before = keys_table()
        assert post(desk, "/console/sign-in", {"email": OLENA}).status_code == 200
        assert post(desk, "/console/sign-in", {"email": "nobody@promptly.example"}).status_code == 200
        # the same rows for both: the rate counters, no code row yet
        assert not [row for row in keys_table() if row["key"].startswith("signincode#")]
        assert len(keys_table()) - len(before) == 3  # one counter per address, one for the source
    jobs = queued_jobs()
    assert sorted(job["email"] for job in jobs) == sorted([OLENA, "nobody@promptly.example"])
    assert all(set(job) == {"kind", "job_id", "email", "asked_at"} for job in jobs)
    [code] = codes_mailed(desk, OLENA)
    assert code not in str(jobs)
    assert [row["key"] for row in keys_table() if row["key"].startswith("signincode#")] == [f"signincode#{OLENA}"]
    assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": code}).status_code == 303


def test_a_redelivered_code_job_mails_the_same_code_once_sent_none(desk, team):
    from chalicelib import keys
    from chalicelib.agents import notices
    from chalicelib.models import Key

    post(desk, "/console/sign-in", {"email": OLENA})
    [job] = queued_jobs()
    notices.send_sign_in_code(job)  # type: ignore[arg-type]
    Key(keys.sent(job["job_id"])).delete()  # as if the try died between the mail and its marker
    notices.send_sign_in_code(job)  # type: ignore[arg-type]
    notices.send_sign_in_code(job)  # type: ignore[arg-type]  (sent: nothing more)
    mailed = [mail for mail in desk.sent_mail() if OLENA in mail["to"]]
    codes = {re.search(r"\b(\d{6})\b", mail["subject"]).group(1) for mail in mailed}  # type: ignore[union-attr]
    assert len(mailed) == 2 and len(codes) == 1
    assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": codes.pop()}).status_code == 303


def test_a_newer_code_replaces_the_older_and_a_late_redelivery_does_not_bring_it_back(desk, team):
    from chalicelib import keys
    from chalicelib.agents import notices
    from chalicelib.models import Key

    post(desk, "/console/sign-in", {"email": OLENA})
    [first] = queued_jobs()
    [old] = codes_mailed(desk, OLENA)
    desk.advance(timedelta(minutes=1))
    post(desk, "/console/sign-in", {"email": OLENA})
    new = [code for code in codes_mailed(desk, OLENA) if code != old]
    Key(keys.sent(first["job_id"])).delete()
    notices.send_sign_in_code(first)  # type: ignore[arg-type]  (a stale redelivery: dropped)
    assert len(codes_mailed(desk, OLENA)) == 2
    assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": old}).status_code == 400
    assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": new[0]}).status_code == 303


def test_a_job_that_waited_past_the_codes_lifetime_mails_nothing(desk, team):
    from chalicelib.agents import notices

    post(desk, "/console/sign-in", {"email": OLENA})
    [job] = queued_jobs()
    desk.advance(timedelta(minutes=11))
    notices.send_sign_in_code(job)  # type: ignore[arg-type]
    assert [mail for mail in desk.sent_mail() if OLENA in mail["to"]] == []


def test_the_operators_reindex_gives_agents_from_before_the_console_their_sign_in_key(desk, team):
    from chalicelib import keys
    from chalicelib.models import Key
    from tools import create_admin

    Key(keys.agent_email(OLENA)).delete()  # an agent created before the console
    post(desk, "/console/sign-in", {"email": OLENA})
    assert codes_mailed(desk, OLENA) == []
    create_admin.reindex()  # what `python -m tools.create_admin --reindex-leaders` runs
    assert sign_in(desk, OLENA).startswith("promptly_session=")


# --------------------------------------------------------------------------- languages

SIGN_IN_WORDS = {"en": "Send me a sign-in code", "uk": "Надіслати код для входу", "ru": "Прислать код для входа"}
CODE_WORDS = {"en": "Check your email", "uk": "Перевірте пошту", "ru": "Проверьте почту"}
QUEUE_WORDS = {"en": "Queue", "uk": "Черга", "ru": "Очередь"}
MAIL_WORDS = {"en": "sign-in code", "uk": "ваш код для входу", "ru": "ваш код для входа"}


@pytest.mark.parametrize(
    ("accept", "language"),
    [("uk-UA,uk;q=0.9,en;q=0.5", "uk"), ("de-DE, ru;q=0.8, en;q=0.7", "ru"), ("en-GB,en;q=0.9", "en"), ("", "en")],
)
def test_the_sign_in_pages_speak_the_browsers_language(desk, team, accept, language):
    headers = {"Accept-Language": accept} if accept else {}
    shown = desk.client.http.get("/console/sign-in", headers=headers)
    assert SIGN_IN_WORDS[language] in page(shown).words
    assert f'<html lang="{language}">' in shown.body.decode()
    asked = post(desk, "/console/sign-in", {"email": OLENA}, {**ORIGIN, **headers})
    assert CODE_WORDS[language] in page(asked).words
    refused = post(desk, "/console/sign-in/code", {"email": OLENA, "code": "000000"}, {**ORIGIN, **headers})
    assert refused.status_code == 400 and f'<html lang="{language}">' in refused.body.decode()


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_a_known_agent_gets_the_code_mail_and_the_console_in_their_language(desk, team, language):
    from chalicelib.agents import staff

    staff.update_agent(team["olena"]["id"], {"language": language})
    other = "ru" if language != "ru" else "uk"
    assert post(desk, "/console/sign-in", {"email": OLENA}).status_code == 200
    desk.pump()
    [mail] = [mail for mail in desk.sent_mail() if OLENA in mail["to"]]
    assert MAIL_WORDS[language] in mail["subject"]
    code = re.search(r"\b(\d{6})\b", mail["subject"]).group(1)  # type: ignore[union-attr]
    cookie = set_cookies(post(desk, "/console/sign-in/code", {"email": OLENA, "code": code}))[0].split(";")[0]
    home = desk.client.http.get("/console/queue", headers={"Cookie": cookie, "Accept-Language": other})
    assert QUEUE_WORDS[language] in page(home).words  # the agent's language beats the browser's
    assert "Olena Koval" in page(home).words


# --------------------------------------------------------------------------- hardening (review findings)
def test_a_used_code_redelivered_mails_nothing_and_never_works_again(desk, team):
    from chalicelib import keys
    from chalicelib.agents import notices
    from chalicelib.models import Key

    post(desk, "/console/sign-in", {"email": OLENA})
    [job] = queued_jobs()
    notices.send_sign_in_code(job)  # type: ignore[arg-type]
    [code] = codes_mailed(desk, OLENA)
    assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": code}).status_code == 303
    Key(keys.sent(job["job_id"])).delete()  # the mail went out but its marker did not: SQS redelivers
    notices.send_sign_in_code(job)  # type: ignore[arg-type]
    assert len(codes_mailed(desk, OLENA)) == 1  # no second mail
    assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": code}).status_code == 400


def test_the_code_mails_marker_is_forgotten_after_any_redelivery_could_come(desk, team):
    from chalicelib import keys
    from chalicelib.models import Key

    post(desk, "/console/sign-in", {"email": OLENA})
    [job] = queued_jobs()
    codes_mailed(desk, OLENA)
    from chalicelib import clock

    marker = Key.get(keys.sent(job["job_id"]))
    assert marker.expires is not None and timedelta(days=14) < marker.expires - clock.now() <= timedelta(days=16)


def test_typed_codes_are_capped_per_address_per_day_whichever_code(desk, team):
    """Five tries a code, but a new code must not bring five more without end: 20 a day."""
    for _ in range(4):
        post(desk, "/console/sign-in", {"email": OLENA})
        code = codes_mailed(desk, OLENA)[0]  # the newest (the outbox lists newest first)
        for _ in range(5):
            wrong = "000000" if code != "000000" else "111111"
            assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": wrong}).status_code == 400
    desk.advance(timedelta(hours=1))  # a new hour: codes may be asked for again
    post(desk, "/console/sign-in", {"email": OLENA})
    right = codes_mailed(desk, OLENA)[0]
    assert post(desk, "/console/sign-in/code", {"email": OLENA, "code": right}).status_code == 400
    desk.advance(timedelta(days=1))
    post(desk, "/console/sign-in", {"email": OLENA})
    assert (
        post(desk, "/console/sign-in/code", {"email": OLENA, "code": codes_mailed(desk, OLENA)[0]}).status_code == 303
    )


def test_an_ipv6_source_is_counted_by_its_64():
    from chalicelib import limits

    assert limits.source_of("2001:db8:1:2:aaaa::1") == limits.source_of("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert limits.source_of("2001:db8:1:3::1") != limits.source_of("2001:db8:1:2::1")
    assert limits.source_of("203.0.113.7") == "203.0.113.7"


@pytest.mark.parametrize(
    "planted",
    [
        "theme=dark promptly_session={value}",  # a lenient parser reads a session out of another cookie
        'junk="a; promptly_session={value}"',  # or out of a quoted value
        "promptly_session={value}; promptly_session={value}",  # a name twice: which is ours?
    ],
)
def test_a_session_cookie_only_counts_when_it_is_plainly_the_one_cookie_of_its_name(desk, team, planted):
    cookie = sign_in(desk, OLENA)
    value = cookie.split("=", 1)[1]
    assert get(desk, "/console/queue", cookie).status_code == 200
    assert get(desk, "/console/queue", planted.format(value=value)).status_code == 303


@pytest.mark.parametrize("door", ["missing", "another-browsers"])
def test_a_sign_in_form_without_its_browsers_csrf_token_is_refused_and_sends_nothing(desk, team, door):
    from tests.console.pages import door_of

    before = tables()
    if door == "missing":
        refused = post(desk, "/console/sign-in", {"email": OLENA}, door=False)
    else:
        cookie, _ = door_of(desk)
        _, token = door_of(desk)  # a token for another browser's cookie (an attacker's own page load)
        refused = post(desk, "/console/sign-in", {"email": OLENA, "door": token}, cookie=cookie)
    assert refused.status_code == 403
    assert tables() == before
    assert codes_mailed(desk, OLENA) == []
