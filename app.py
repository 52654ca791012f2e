"""Promptly's AWS surface: routes, queue and topic handlers. Declarations only —
each one delegates to a single function in chalicelib/."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from chalice import Chalice, Rate, Response
from chalice.app import CloudWatchEvent, Request, SNSEvent, SQSEvent

from chalicelib import clock, stage

# Each function loads only its own feature: these modules are imported when a handler of theirs
# is first called (chalicelib/on_first_call.py says why); mypy reads the real imports.
if TYPE_CHECKING:
    from chalicelib import api, assets, dev_clock, devtools, inbound_mail, jobs, outbox, suppression, webhooks
    from chalicelib.attachments import customer_links
    from chalicelib.console import (
        agents_page,
        files,
        me_page,
        roster_page,
        ticket_actions,
        ticket_page,
        web,
        whole_message,
    )
    from chalicelib.console import entry as console
    from chalicelib.console import queue as console_queue
    from chalicelib.console import search as console_search
    from chalicelib.feedback import confirm, csat, nps
    from chalicelib.kpi import mailing
    from chalicelib.sla import watch
else:
    from chalicelib.on_first_call import feature

    api, assets = feature("chalicelib.api"), feature("chalicelib.assets")
    dev_clock, devtools = feature("chalicelib.dev_clock"), feature("chalicelib.devtools")
    jobs, outbox = feature("chalicelib.jobs"), feature("chalicelib.outbox")
    suppression, webhooks = feature("chalicelib.suppression"), feature("chalicelib.webhooks")
    inbound_mail = feature("chalicelib.inbound_mail")
    customer_links = feature("chalicelib.attachments.customer_links")
    agents_page, files = feature("chalicelib.console.agents_page"), feature("chalicelib.console.files")
    me_page, roster_page = feature("chalicelib.console.me_page"), feature("chalicelib.console.roster_page")
    ticket_actions = feature("chalicelib.console.ticket_actions")
    whole_message = feature("chalicelib.console.whole_message")
    ticket_page, web = feature("chalicelib.console.ticket_page"), feature("chalicelib.console.web")
    console = feature("chalicelib.console.entry")
    console_queue = feature("chalicelib.console.queue")
    console_search = feature("chalicelib.console.search")
    confirm, csat = feature("chalicelib.feedback.confirm"), feature("chalicelib.feedback.csat")
    nps = feature("chalicelib.feedback.nps")
    mailing, watch = feature("chalicelib.kpi.mailing"), feature("chalicelib.sla.watch")

# Powertools owns logging; Chalice's own handler would print every line twice.
app = Chalice(app_name="promptly", configure_logs=False)


def request() -> Request:
    """The request a route answers: Chalice sets it before it calls the route (typed Optional)."""
    if app.current_request is None:
        raise RuntimeError("no current request: called outside a route")
    return app.current_request


@app.route("/webhooks/form", methods=["POST"], content_types=["application/json"])
def contact_form() -> Response:
    return webhooks.contact_form(request())


@app.route("/webhooks/chat", methods=["POST"], content_types=["application/json"])
def chat() -> Response:
    return webhooks.messaging("chat", request())


@app.route("/webhooks/telegram", methods=["POST"], content_types=["application/json"])
def telegram() -> Response:
    return webhooks.messaging("telegram", request())


@app.route("/webhooks/viber", methods=["POST"], content_types=["application/json"])
def viber() -> Response:
    return webhooks.messaging("viber", request())


@app.route("/webhooks/twilio", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def twilio() -> Response:
    return webhooks.messaging("twilio", request())


@app.on_sns_message(topic=stage.resource("inbound-email"))
def inbound_email(event: SNSEvent) -> None:
    inbound_mail.receive(event.message)


@app.on_sqs_message(queue=stage.outbox_queue(), batch_size=1)
def outbox_worker(event: SQSEvent) -> None:
    outbox.handle(event, jobs.dispatch)


@app.on_sns_message(topic=stage.resource("ses-feedback"))
def ses_feedback(event: SNSEvent) -> None:
    suppression.handle(event.message)


@app.route("/dev/outbox", methods=["GET"])
def dev_outbox() -> Response:
    return devtools.outbox_json()


@app.route("/dev/mail", methods=["GET"])
def dev_mail() -> Response:
    return devtools.outbox_page()


@app.route("/dev/clock", methods=["GET"])
def dev_clock_show() -> Response:
    return dev_clock.show()


@app.route("/dev/clock", methods=["POST"])
def dev_clock_move() -> Response:
    return dev_clock.move(request().raw_body)


# --- the agents' API (chalicelib/api.py; contract in openapi.yaml) ----------------------------
@app.route("/api/me", methods=["GET"])
def api_me() -> Response:
    return api.call(request(), api.me)


@app.route("/api/tickets", methods=["GET"])
def api_tickets() -> Response:
    return api.call(request(), api.list_tickets)


@app.route("/api/tickets/{ticket_id}", methods=["GET"])
def api_ticket(ticket_id: str) -> Response:
    return api.call(request(), api.get_ticket, ticket_id)


@app.route("/api/tickets/{ticket_id}/files/{message}/{index}", methods=["GET"])
def api_file(ticket_id: str, message: str, index: str) -> Response:
    return api.call(request(), api.open_file, ticket_id, message, index)


@app.route("/api/tickets/{ticket_id}/messages/{message}/original", methods=["GET"])
def api_original(ticket_id: str, message: str) -> Response:
    return api.call(request(), api.original, ticket_id, message)


@app.route("/api/tickets/{ticket_id}/reply", methods=["POST"])
def api_reply(ticket_id: str) -> Response:
    return api.call(request(), api.reply, ticket_id, status=201)


@app.route("/api/tickets/{ticket_id}/uploads", methods=["POST"])
def api_upload(ticket_id: str) -> Response:
    return api.call(request(), api.upload, ticket_id, status=201)


@app.route("/f/{token}", methods=["GET"])
def customer_file(token: str) -> Response:
    return customer_links.open_file(token)


@app.route("/api/tickets/{ticket_id}/notes", methods=["POST"])
def api_note(ticket_id: str) -> Response:
    return api.call(request(), api.add_note, ticket_id, status=201)


@app.route("/api/tickets/{ticket_id}/take", methods=["POST"])
def api_take(ticket_id: str) -> Response:
    return api.call(request(), api.take, ticket_id)


@app.route("/api/tickets/{ticket_id}/handover", methods=["POST"])
def api_handover(ticket_id: str) -> Response:
    return api.call(request(), api.handover, ticket_id)


@app.route("/api/tickets/{ticket_id}/assign", methods=["POST"])
def api_assign(ticket_id: str) -> Response:
    return api.call(request(), api.assign, ticket_id)


@app.route("/api/tickets/{ticket_id}/status", methods=["POST"])
def api_status(ticket_id: str) -> Response:
    return api.call(request(), api.set_status, ticket_id)


@app.route("/api/tickets/{ticket_id}/priority", methods=["POST"])
def api_priority(ticket_id: str) -> Response:
    return api.call(request(), api.set_priority, ticket_id)


@app.route("/api/agents", methods=["GET"])
def api_agents() -> Response:
    return api.call(request(), api.list_agents)


@app.route("/api/agents", methods=["POST"])
def api_create_agent() -> Response:
    return api.call(request(), api.create_agent, status=201)


@app.route("/api/agents/{agent_id}", methods=["PATCH"])
def api_update_agent(agent_id: str) -> Response:
    return api.call(request(), api.update_agent, agent_id)


@app.route("/api/agents/{agent_id}/tokens", methods=["POST"])
def api_issue_token(agent_id: str) -> Response:
    return api.call(request(), api.issue_token, agent_id, status=201)


@app.route("/api/agents/{agent_id}/tokens", methods=["GET"])
def api_tokens(agent_id: str) -> Response:
    return api.call(request(), api.list_tokens, agent_id)


@app.route("/api/tokens/{token_id}", methods=["DELETE"])
def api_revoke_token(token_id: str) -> Response:
    return api.call(request(), api.revoke_token, token_id)


@app.route("/api/rosters/{queue}/{week}", methods=["GET"])
def api_roster(queue: str, week: str) -> Response:
    return api.call(request(), api.get_roster, queue, week)


@app.route("/api/rosters/{queue}/{week}", methods=["PUT"])
def api_set_roster(queue: str, week: str) -> Response:
    return api.call(request(), api.set_roster, queue, week)


# --- the agents' console (chalicelib/console/; its session cookie only, never a bearer token) -----
FORM = ["application/x-www-form-urlencoded"]


def page(action: Callable[..., Response], *args: str) -> Response:
    """A signed-in console GET: `action(visit, *args)` behind web.visit's door."""
    return web.visit(request(), action, *args)


def act(action: Callable[..., Response], *args: str) -> Response:
    """A signed-in console POST: web.visit checks origin, size and CSRF first, then `action(visit, *args)`."""
    return web.visit(request(), action, *args, write=True)


@app.route("/console", methods=["GET"])
def console_home() -> Response:
    return page(console.home)


@app.route("/console/queue", methods=["GET"])
def console_queue_page() -> Response:
    return page(console_queue.page)


@app.route("/console/sign-in", methods=["GET"])
def console_sign_in_page() -> Response:
    return console.sign_in_page(request())


@app.route("/console/sign-in", methods=["POST"], content_types=FORM)
def console_ask_for_code() -> Response:
    return console.ask_for_code(request())


@app.route("/console/sign-in/code", methods=["POST"], content_types=FORM)
def console_enter_code() -> Response:
    return console.enter_code(request())


@app.route("/console/sign-out", methods=["POST"], content_types=FORM)
def console_sign_out() -> Response:
    return act(console.sign_out)


@app.route("/console/t/{ticket_id}", methods=["GET"])
def console_ticket(ticket_id: str) -> Response:
    return page(ticket_page.show, ticket_id)


@app.route("/console/t/{ticket_id}/messages", methods=["GET"])
def console_ticket_older(ticket_id: str) -> Response:
    return page(ticket_page.older, ticket_id)


@app.route("/console/t/{ticket_id}/customer", methods=["GET"])
def console_ticket_customer(ticket_id: str) -> Response:
    return page(ticket_page.customer, ticket_id)


@app.route("/console/t/{ticket_id}/people", methods=["GET"])
def console_ticket_people(ticket_id: str) -> Response:
    return page(ticket_page.people, ticket_id)


@app.route("/console/t/{ticket_id}/files/{message}/{index}", methods=["GET"])
def console_ticket_file(ticket_id: str, message: str, index: str) -> Response:
    return page(files.open_file, ticket_id, message, index)


@app.route("/console/t/{ticket_id}/messages/{message}/original", methods=["GET"])
def console_ticket_original(ticket_id: str, message: str) -> Response:
    return page(whole_message.show, ticket_id, message)


@app.route("/console/t/{ticket_id}/send", methods=["POST"], content_types=FORM)
def console_ticket_send(ticket_id: str) -> Response:
    return act(ticket_actions.send, ticket_id)


@app.route("/console/t/{ticket_id}/uploads", methods=["POST"], content_types=FORM)
def console_ticket_upload(ticket_id: str) -> Response:
    return act(ticket_actions.upload, ticket_id)


@app.route("/console/t/{ticket_id}/take", methods=["POST"], content_types=FORM)
def console_ticket_take(ticket_id: str) -> Response:
    return act(ticket_actions.take, ticket_id)


@app.route("/console/t/{ticket_id}/handover", methods=["POST"], content_types=FORM)
def console_ticket_handover(ticket_id: str) -> Response:
    return act(ticket_actions.handover, ticket_id)


@app.route("/console/t/{ticket_id}/assign", methods=["POST"], content_types=FORM)
def console_ticket_assign(ticket_id: str) -> Response:
    return act(ticket_actions.assign, ticket_id)


@app.route("/console/t/{ticket_id}/status", methods=["POST"], content_types=FORM)
def console_ticket_status(ticket_id: str) -> Response:
    return act(ticket_actions.status, ticket_id)


@app.route("/console/t/{ticket_id}/priority", methods=["POST"], content_types=FORM)
def console_ticket_priority(ticket_id: str) -> Response:
    return act(ticket_actions.priority, ticket_id)


@app.route("/console/t/{ticket_id}/presence", methods=["POST"], content_types=FORM)
def console_ticket_presence(ticket_id: str) -> Response:
    return act(ticket_actions.beat, ticket_id)


@app.route("/console/search", methods=["GET"])
def console_search_page() -> Response:
    return page(console_search.search)


@app.route("/console/roster", methods=["GET"])
def console_roster() -> Response:
    return page(roster_page.show)


@app.route("/console/roster", methods=["POST"], content_types=FORM)
def console_save_roster() -> Response:
    return act(roster_page.save)


@app.route("/console/agents", methods=["GET"])
def console_agents() -> Response:
    return page(agents_page.listing)


@app.route("/console/agents", methods=["POST"], content_types=FORM)
def console_create_agent() -> Response:
    return act(agents_page.create)


@app.route("/console/agents/{agent_id}", methods=["GET"])
def console_agent(agent_id: str) -> Response:
    return page(agents_page.show, agent_id)


@app.route("/console/agents/{agent_id}", methods=["POST"], content_types=FORM)
def console_update_agent(agent_id: str) -> Response:
    return act(agents_page.save, agent_id)


@app.route("/console/agents/{agent_id}/active", methods=["POST"], content_types=FORM)
def console_agent_active(agent_id: str) -> Response:
    return act(agents_page.set_active, agent_id)


@app.route("/console/agents/{agent_id}/tokens", methods=["POST"], content_types=FORM)
def console_issue_token(agent_id: str) -> Response:
    return act(agents_page.issue_token, agent_id)


@app.route("/console/tokens/{token_id}/revoke", methods=["POST"], content_types=FORM)
def console_revoke_token(token_id: str) -> Response:
    return act(agents_page.revoke_token, token_id)


@app.route("/console/me", methods=["GET"])
def console_me() -> Response:
    return page(me_page.show)


@app.route("/console/me", methods=["POST"], content_types=FORM)
def console_save_me() -> Response:
    return act(me_page.save)


# --- static files the pages load (chalicelib/assets.py: a fixed allow-list) -----------------------
@app.route("/static/{name}", methods=["GET"])
def static_file(name: str) -> Response:
    return assets.serve(name)


# --- customers' links (signed; chalicelib/feedback/) -------------------------------------------
@app.route("/confirm/{token}", methods=["GET"])
def confirm_page(token: str) -> Response:
    return confirm.show(token)


@app.route("/confirm/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def confirm_answer(token: str) -> Response:
    return confirm.answer(token, request().raw_body)


@app.route("/rate/{token}", methods=["GET"])
def rate_page(token: str) -> Response:
    return csat.show(token, request().query_params)


@app.route("/rate/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def rate_vote(token: str) -> Response:
    return csat.vote(token, request().raw_body)


@app.route("/survey/{token}", methods=["GET"])
def survey_page(token: str) -> Response:
    return nps.show(token, request().query_params)


@app.route("/survey/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def survey_answer(token: str) -> Response:
    return nps.answer(token, request().raw_body)


@app.schedule(Rate(1, unit=Rate.HOURS))
def quiet_close(event: CloudWatchEvent) -> None:
    confirm.close_quiet(clock.now())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sla_watch(event: CloudWatchEvent) -> None:
    watch.run(clock.now())


@app.schedule(Rate(1, unit=Rate.HOURS))
def morning_digest(event: CloudWatchEvent) -> None:
    mailing.run(clock.now())
