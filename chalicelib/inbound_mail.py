"""The inbound email function's entry point: SES stores a mail in S3 and tells SNS, which calls
this. Apart from the HTTP webhooks (chalicelib/webhooks.py) so that they do not load the MIME
parsing (email.parser, TNEF) their cold start never uses."""

from __future__ import annotations

from chalicelib import clock, intake, log
from chalicelib.channels import ses
from chalicelib.channels.email import MalformedEmail


def receive(sns_message: str) -> None:
    """SES → S3 → SNS. A notification that is not an email is logged and dropped (SNS would
    only retry it); a failure reading S3 or storing raises so SNS/Lambda retry it."""
    try:
        message = ses.read(sns_message, clock.now())
    except ses.NotAnEmail as error:
        log.warning("ignored SNS message", reason=str(error))
        return
    except MalformedEmail as error:  # no usable sender: nobody to answer; the raw mail stays in S3
        log.warning("unusable inbound email", reason=str(error))
        return
    receipt = intake.receive(message)
    log.info("email received", ticket_id=receipt.ticket_id, new_ticket=receipt.created)
