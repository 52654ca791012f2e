"""The local outbox is a development aid: served on the local stage, absent everywhere else."""

from __future__ import annotations

from chalice.test import Client

from tests.conftest import ROOT


def test_outbox_lists_what_was_sent_newest_first(desk):
    desk.post_form({"submission_id": "1", "email": "a@example.com", "message": "first"})
    desk.post_form({"submission_id": "2", "email": "b@example.com", "message": "second"})
    desk.pump()

    assert [m["to"] for m in desk.sent_mail()] == ["b@example.com", "a@example.com"]
    page = desk.client.http.get("/dev/mail")
    assert page.status_code == 200 and b"Local outbox (2)" in page.body


def test_outbox_is_404_on_deployed_stages(desk):
    with Client(desk.app, stage_name="dev", project_dir=str(ROOT)) as dev:
        for path in ("/dev/outbox", "/dev/mail"):
            response = dev.http.get(path)
            assert response.status_code == 404
            assert response.json_body["Code"] == "NotFound"


def test_html_acknowledgement_has_its_css_inlined(desk):
    desk.post_form({"submission_id": "1", "email": "a@example.com", "message": "hello"})
    desk.pump()

    html = desk.sent_mail()[0]["html"]
    assert "<style" not in html and "<script" not in html.lower()
    assert 'style="' in html and "border-left: 4px solid #2f6fde" in html
