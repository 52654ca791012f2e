"""An agent's answer by email reads as they wrote it: line breaks are line breaks in the HTML
part too, and anything that looks like markup in their text is shown, not obeyed."""
from __future__ import annotations

from html.parser import HTMLParser

FORM = {"submission_id": "s1", "email": "olga@example.com", "name": "Olga", "subject": "Cannot log in",
        "message": "Hello, I cannot log in."}


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
    desk.api("POST", f"/api/tickets/{ticket_id}/reply", team["olena"]["token"],
             {"text": "Please reset your password.\nThen use <b>Sign in</b> again."})
    desk.pump()

    answer = desk.sent_mail()[0]
    assert "&lt;br&gt;" not in answer["html"]
    shown = Paragraphs()
    shown.feed(answer["html"])
    assert "Please reset your password.\nThen use <b>Sign in</b> again." in shown.paragraphs
