"""Issue 17 end to end: real client mails through SES intake, the ticket as the agent reads it.

An inline reply keeps every answer the customer wrote between the quoted questions (and loses the
quotes and the signature, which "show the whole message" still has); a forward keeps what was
forwarded, shown apart from the customer's note and labelled."""

from __future__ import annotations

from typing import Any

from chalicelib.attachments import opening
from chalicelib.models import Message, Ticket
from tests.conftest import fixture_bytes
from tests.console.pages import get, page, sign_in

OLENA = "olena@promptly.example"  # general and billing


def delivered(desk: Any, name: str) -> tuple[Ticket, Message]:
    desk.deliver_email(fixture_bytes("email", name), key=f"mail/{name}")
    desk.pump()
    [ticket] = list(Ticket.scan())
    [message] = [m for m in Message.query(ticket.ticket_id) if m.direction == "in"]
    return ticket, message


def test_an_inline_reply_keeps_every_answer_between_the_quotes(desk, team):
    ticket, message = delivered(desk, "thunderbird_inline_reply_de.eml")

    assert message.body.split("\n") == [
        "Hallo Frau Kowalenko,",
        "",
        "danke für die schnelle Antwort, meine Antworten stehen unten.",
        "",
        "Version 4.2.1 unter Windows 11.",
        "",
        "Nur bei Rechnungen mit Umlauten im Kundennamen, z. B. „Müller GmbH“.",
        "",
        "Mache ich heute Nachmittag.",
        "",
        "Viele Grüße",
        "Jonas Becker",
    ]
    cookie = sign_in(desk, OLENA)
    shown = page(get(desk, f"/console/t/{ticket.ticket_id}", cookie)).one(f"#m-{message.message_id}")
    assert "Mache ich heute Nachmittag." in shown.text()
    assert "Tritt der Fehler" not in shown.text()
    whole = page(
        get(desk, f"/console/t/{ticket.ticket_id}/messages/{opening.ref(message.message_key)}/original", cookie)
    )
    text = whole.one("pre.whole-text").text()
    assert "> Tritt der Fehler bei allen Rechnungen auf oder nur bei einigen?" in text
    assert "Becker & Söhne OHG" in text


def test_an_outlook_forward_keeps_the_forwarded_mail_marked_and_the_console_labels_it(desk, team):
    ticket, message = delivered(desk, "outlook_forward_fr.eml")

    note, _, forwarded = message.body.partition("\n---------- Forwarded message ----------\n")
    assert note.split("\n")[-2:] == ["Merci,", "Claire"]
    assert forwarded.split("\n")[:4] == [
        "De : Banque Exemple <noreply@banque.example>",
        "Envoyé : lundi 23 novembre 2026 09:00",
        "À : Claire Martin <claire.martin@entreprise.example>",
        "Objet : Paiement refusé",
    ]
    assert "refusé (code 51 : provision insuffisante)" in forwarded
    shown = page(get(desk, f"/console/t/{ticket.ticket_id}", sign_in(desk, OLENA))).one(f"#m-{message.message_id}")
    [block] = shown.css(".forwarded")
    assert block.css_first(".forwarded-label").text() == "Forwarded message"
    assert "Votre paiement de 120,00 EUR" in block.text()
    assert "Forwarded message ----------" not in shown.text()
