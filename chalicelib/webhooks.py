"""Inbound entry points: each checks size and signature, parses, and hands over to intake.

A webhook answers 2xx only after intake has stored the message (nothing lost); a
redelivery answers 2xx with the same ticket (idempotent).
"""

from __future__ import annotations

from chalice.app import Request, Response

from chalicelib import channels, clock, intake, stage
from chalicelib.channels import form
from chalicelib.http import body, headers, json_response, query_string, respond


def contact_form(request: Request) -> Response:
    return respond("form", _contact_form, request)


def _contact_form(request: Request) -> Response:
    raw = body(request.raw_body, form.MAX_BODY_BYTES)
    form.verify(raw, headers(request))
    receipt = intake.receive(form.parse(raw, clock.now()))
    return json_response({"ticket": receipt.ticket_id, "created": receipt.created, "duplicate": receipt.duplicate})


def messaging(channel: str, request: Request) -> Response:
    """Telegram, Viber, Twilio (SMS/WhatsApp) and the website chat: one path for all."""
    return respond(channel, _messaging, channel, request)


def _messaging(channel: str, request: Request) -> Response:
    adapter = channels.adapter(channel)
    raw = body(request.raw_body, adapter.MAX_BODY_BYTES)
    request_headers = headers(request)
    called = f"/webhooks/{channel}{query_string(request)}"
    adapter.verify(raw, request_headers, [base + called for base in stage.public_urls()])
    for message in adapter.parse(raw, request_headers, clock.now()):
        intake.receive(message)
    text, content_type = adapter.ok_response()
    return Response(body=text, status_code=200, headers={"Content-Type": content_type})
