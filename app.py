"""Promptly's AWS surface: routes, queue and topic handlers. Declarations only —
each one delegates to a single function in chalicelib/."""
from chalice import Chalice

from chalicelib import devtools, outbox, stage, webhooks

# Powertools owns logging; Chalice's own handler would print every line twice.
app = Chalice(app_name="promptly", configure_logs=False)


@app.route("/webhooks/form", methods=["POST"], content_types=["application/json"])
def contact_form():
    return webhooks.contact_form(app.current_request)


@app.route("/webhooks/chat", methods=["POST"], content_types=["application/json"])
def chat():
    return webhooks.messaging("chat", app.current_request)


@app.route("/webhooks/telegram", methods=["POST"], content_types=["application/json"])
def telegram():
    return webhooks.messaging("telegram", app.current_request)


@app.route("/webhooks/viber", methods=["POST"], content_types=["application/json"])
def viber():
    return webhooks.messaging("viber", app.current_request)


@app.route("/webhooks/twilio", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def twilio():
    return webhooks.messaging("twilio", app.current_request)


@app.on_sns_message(topic=stage.resource("inbound-email"))
def inbound_email(event):
    webhooks.inbound_email(event.message)


@app.on_sqs_message(queue=stage.outbox_queue(), batch_size=1)
def outbox_worker(event):
    outbox.handle(event)


@app.route("/dev/outbox", methods=["GET"])
def dev_outbox():
    return devtools.outbox_json()


@app.route("/dev/mail", methods=["GET"])
def dev_mail():
    return devtools.outbox_page()
