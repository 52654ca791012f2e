"""An agent's answer by email reads as they wrote it: line breaks are line breaks in the HTML
part too, and anything that looks like markup in their text is shown, not obeyed."""

from __future__ import annotations

from email import message_from_bytes, policy
from html.parser import HTMLParser

import requests

FORM = {
    "submission_id": "s1",
    "email": "olga@example.com",
    "name": "Olga",
    "subject": "Cannot log in",
    "message": "Hello, I cannot log in.",
}


class Paragraphs(HTMLParser):
    """The text a mail client shows for each <p>, with <br> as a line break."""

    def __init__(self) -> None:
        super().__init__()
        self.paragraphs: list[str] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "p":
            self.paragraphs.append("")
            self._open = True
        elif tag == "br" and self._open:
            self.paragraphs[-1] += "\n"

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._open = False

    def handle_data(self, data: str) -> None:
        if self._open:
            self.paragraphs[-1] += data.replace("\r", "").replace("\n", "")  # a line end after <br> shows as nothing


def test_two_lines_of_an_answer_are_two_lines_in_the_html_mail(desk, team):
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()
    desk.api(
        "POST",
        f"/api/tickets/{ticket_id}/reply",
        team["olena"]["token"],
        {"text": "Please reset your password.\nThen use <b>Sign in</b> again."},
    )
    desk.pump()

    answer = desk.sent_mail()[0]
    assert "&lt;br&gt;" not in answer["html"]
    shown = Paragraphs()
    shown.feed(answer["html"])
    assert "Please reset your password.\nThen use <b>Sign in</b> again." in shown.paragraphs


def headers_sent_to(address: str) -> list[dict[str, str]]:
    """The headers of every mail SES sent to `address`, as the customer's mail system reads them."""
    sends = requests.get("http://motoapi.amazonaws.com/moto-api/data.json", timeout=5).json()["ses"]["RawMessage"]
    mails = [message_from_bytes(send["raw_data"].encode(), policy=policy.default) for send in sends]
    return [dict(mail.items()) for mail in mails if address in str(mail["To"])]


def test_an_agents_answer_is_a_persons_mail_and_what_the_desk_sends_by_itself_is_automatic(desk, team):
    """RFC 3834: an answer a person wrote is not an automatic reply. Marked as one, some mail
    systems file it away and other desks refuse to answer it."""
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"], {"text": "Please reset it."})
    desk.api("POST", f"/api/tickets/{ticket_id}/status", team["olena"]["token"], {"status": "solved"})
    desk.pump()

    ack, answer, solved = headers_sent_to("olga@example.com")
    assert "Please reset it." in desk.sent_mail()[1]["text"]  # newest first: the answer is the middle one
    assert "Auto-Submitted" not in answer and "X-Auto-Response-Suppress" not in answer
    for automatic in (ack, solved):
        assert (automatic["Auto-Submitted"], automatic["X-Auto-Response-Suppress"]) == ("auto-replied", "All")
