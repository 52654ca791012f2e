"""Files in the composer: the page offers the picker to whoever may answer, each picked file is
asked of the desk from the console (origin and CSRF like every console POST) and refused in the
agent's own language, and a reply carrying upload keys reaches the customer with the files."""

from __future__ import annotations

from email import message_from_bytes, policy

import requests

from chalicelib import stage
from chalicelib.models import Agent
from tests.attach_send import FORM, PDF
from tests.console.pages import act, get, post, sign_in
from tests.console.test_ticket_actions import composer
from tests.console.test_ticket_page import OLENA, ticket_page


def ask(desk, cookie: str, ticket_id: str, **fields: str):
    return act(desk, cookie, f"/console/t/{ticket_id}/uploads", fields)


def test_the_composer_offers_files_and_a_refusal_is_in_the_agents_language(desk, team):
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()
    cookie = sign_in(desk, OLENA)
    Agent.get(team["olena"]["id"]).update(actions=[Agent.language.set("uk")])

    area = ticket_page(desk, ticket_id, cookie).one("#attach")
    assert area.attributes["data-upload-url"].endswith(f"/console/t/{ticket_id}/uploads")
    shown = get(desk, f"/console/t/{ticket_id}", cookie)
    policy = dict(part.strip().split(" ", 1) for part in shown.headers["Content-Security-Policy"].split(";"))
    assert (
        policy["connect-src"] == f"'self' {stage.files_origin()}"
    )  # the browser may post the file to S3, nowhere else

    refused = ask(desk, cookie, ticket_id, name="logo.svg", type="image/svg+xml", size="500")
    assert refused.status_code == 400
    assert refused.json_body["Message"] == "logo.svg: такий файл не можна прикріпити."
    too_big = ask(desk, cookie, ticket_id, name="scan.pdf", type="application/pdf", size="8000000")
    assert too_big.status_code == 400
    assert too_big.json_body["Message"] == "scan.pdf не вміщується: email приймає до 7 MB файлів на відповідь."


def test_only_the_consoles_own_page_may_ask(desk, team):
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()
    cookie = sign_in(desk, OLENA)
    fields = {"name": "a.pdf", "type": "application/pdf", "size": "100"}

    assert post(desk, f"/console/t/{ticket_id}/uploads", fields, cookie=cookie).status_code == 403  # no CSRF token
    assert ask(desk, cookie, ticket_id, **fields).status_code == 200


def test_a_reply_with_a_file_from_the_composer_reaches_the_customer(desk, team):
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()
    cookie = sign_in(desk, OLENA)
    asked = ask(desk, cookie, ticket_id, name="invoice.pdf", type="application/pdf", size=str(len(PDF)))
    links = asked.json_body["links"]
    form = links["upload_form"]
    assert requests.post(form["url"], data=form["fields"], files={"file": ("invoice.pdf", PDF)}, timeout=5).ok

    fields = composer(ticket_page(desk, ticket_id, cookie))
    sent = post(
        desk,
        f"/console/t/{ticket_id}/send",
        {**fields, "text": "", "mode": "reply", "then": "send", "files": links["upload_key"]},
        cookie=cookie,
    )
    assert sent.status_code == 303, sent.body[:300]
    desk.pump()

    raw = requests.get("http://motoapi.amazonaws.com/moto-api/data.json", timeout=5).json()["ses"]["RawMessage"]
    mail = message_from_bytes(raw[-1]["raw_data"].encode(), policy=policy.default)
    assert [(part.get_filename(), part.get_content()) for part in mail.iter_attachments()] == [("invoice.pdf", PDF)]
