"""The kinds of row in the keys table, one constructor each: the exact key a kind is stored under.

`models.Key` is one table of exact-match lookups, each read by its whole key (a GetItem, or one
key of a BatchGetItem); a row's kind is its key's first part. Each constructor's docstring gives
the key's shape and what the row holds. Production tables hold these strings already, so what a
constructor returns never changes (tests/unit/test_keys.py pins each one).

Why strings and not one PynamoDB subclass per kind with a discriminator (PynamoDB's
examples/game_player): a discriminator is a stored attribute, which the rows written so far do
not have; nothing here reads rows of several kinds at once (no Scan or Query needs to tell them
apart), and the kinds share the few attributes they use. Constructors leave the table as it is
and give every spelling of a key one place.
"""

from __future__ import annotations

from datetime import datetime

# --- intake: idempotency, identities and conversations --------------------------------------------


def delivery(channel: str, provider_id: str) -> str:
    """`delivery#<channel>#<provider's message id>`: a message already stored (a provider's
    redelivery is a no-op) → `ticket_id`."""
    return f"delivery#{channel}#{provider_id}"


def contact(medium: str, address: str) -> str:
    """`contact#<medium>#<address>`: a customer's proven identity → `customer_id`, and their
    `language` and `timezone`. `medium` is "email" (the address lower-cased by the caller), "phone"
    (E.164) or the chat channel the address belongs to."""
    return f"contact#{medium}#{address}"


def thread(channel: str, thread_key: str) -> str:
    """`thread#<channel>#<thread key>`: a conversation a later message continues → `ticket_id`."""
    return f"thread#{channel}#{thread_key}"


def thread_email(message_id: str) -> str:
    """`thread#email#<Message-ID>`: a mail of the conversation (the customer's, or one the desk sent,
    under the id SES gave it: `<id>@<region>.amazonses.com`) → `ticket_id`."""
    return thread("email", message_id)


# --- the outbox: one send per step ---------------------------------------------------------------


def sent(step: str) -> str:
    """`sent#<step>`: the step (a job, or a job's send to one destination) went out → `ticket_id`;
    `owner` is "withheld" when it was deliberately not sent."""
    return f"sent#{step}"


def claim(job_id: str) -> str:
    """`claim#<job id>`: the one job of a logical send; `owner` is the nonce of the run that queued it."""
    return f"claim#{job_id}"


def ack_guard(channel: str, address: str) -> str:
    """`ackguard#<channel>#<address>`: at most one acknowledgement per address per cooldown; `owner`
    is the job holding it, `until` when the hold ends."""
    return f"ackguard#{channel}#{address}"


def nps_guard(email: str | None, customer_id: str) -> str:
    """`npsguard#email#<address, lower-cased>`, or `npsguard#<customer id>` for a customer we have
    no address for: one survey per person per period; `owner` is the job, `until` the period's end.
    By address when we write to one: a form's typed address finds no customer record, yet it is
    the same inbox every time."""
    return f"npsguard#email#{email.lower()}" if email else f"npsguard#{customer_id}"


def ack_rate_job(step: str) -> str:
    """`ackrate#job#<step>`: this acknowledgement was counted against the rate limits (once)."""
    return f"ackrate#job#{step}"


def ack_rate_domain(domain: str, hour: datetime) -> str:
    """`ackrate#domain#<recipient domain>#<UTC hour, 2026-11-23T09>`: acknowledgements to the domain
    in that hour (`tally`)."""
    return f"ackrate#domain#{domain}#{_hour(hour)}"


def ack_rate_all(hour: datetime) -> str:
    """`ackrate#all#<UTC hour, 2026-11-23T09>`: acknowledgements by email in that hour (`tally`)."""
    return f"ackrate#all#{_hour(hour)}"


def suppressed(address: str) -> str:
    """`suppress#email#<address, trimmed and lower-cased>`: SES reported it bounced or complained
    (`data`: reason, detail, when): no more email goes there."""
    return f"suppress#email#{address.strip().lower()}"


# --- the digest and the usual wait ----------------------------------------------------------------


def digest_queued(day: str) -> str:
    """`digest#<desk-local day, 2026-11-23>`: a run queued that day's digest; `owner` is its nonce,
    `data` its recipients and when."""
    return f"digest#{day}"


# The usual first-response wait per channel and priority over the last week (`data`), and the end
# of the day it covers (`until`): what acknowledgements say "we usually answer within".
USUAL_SUMMARY = "usual#summary"

# --- the desk's people ---------------------------------------------------------------------------

# The active admins and leads (`members`): the morning digest's readers.
STAFF_LEADERS = "staff#leaders"
# The active admins (`members`): a write taking one away is conditional on another staying.
STAFF_ADMINS = "staff#admins"


def leads(queue: str) -> str:
    """`leads#<queue>`: the queue's active leads (`members`)."""
    return f"leads#{queue}"


def roster(queue: str, week: str) -> str:
    """`roster#<queue>#<ISO week, 2026-W48>`: who is on duty that week (`data`: {"agents": [...]})."""
    return f"roster#{queue}#{week}"


TOKEN_PREFIX = "token#"


def token(token_id: str) -> str:
    """`token#<token id>`: a personal API token: its holder (`owner`), SHA-256 (`digest`), who issued
    it and when, when it stops working (`until`) and was last used."""
    return f"{TOKEN_PREFIX}{token_id}"


def tokens_held(agent_id: str) -> str:
    """`tokens#<agent id>`: the ids of the agent's tokens (`members`)."""
    return f"tokens#{agent_id}"


# --- the agents' console: sign-in and sessions (chalicelib/console/) -------------------------------


def agent_email(email: str) -> str:
    """`agentemail#<address, trimmed and lower-cased>`: the agent who signs in with it (`owner`)."""
    return f"agentemail#{email.strip().lower()}"


def sign_in_code(email: str) -> str:
    """`signincode#<address, lower-cased>`: the one live sign-in code for the address: its keyed
    hash (`digest`, never the code), whose agent (`owner`), until when it works (`until`) and the
    tries spent on it (`tally`)."""
    return f"signincode#{email.strip().lower()}"


def sign_in_rate_address(email: str, hour: datetime) -> str:
    """`signinrate#email#<address>#<UTC hour>`: sign-in codes asked for the address in that hour (`tally`)."""
    return f"signinrate#email#{email.strip().lower()}#{_hour(hour)}"


def sign_in_tries_address(email: str, day: datetime) -> str:
    """`signintry#email#<address>#<UTC day>`: codes typed for the address that day, whichever code (`tally`)."""
    return f"signintry#email#{email.strip().lower()}#{day:%Y-%m-%d}"


def sign_in_tries_source(source: str, day: datetime) -> str:
    """`signintry#source#<source>#<UTC day>`: codes typed from that source that day (`tally`)."""
    return f"signintry#source#{source}#{day:%Y-%m-%d}"


def sign_in_rate_source(source: str, hour: datetime) -> str:
    """`signinrate#source#<source IP>#<UTC hour>`: sign-in codes asked from that IP in that hour (`tally`)."""
    return f"signinrate#source#{source}#{_hour(hour)}"


def session(digest: str) -> str:
    """`session#<SHA-256 of the session token>`: a console session: its agent (`owner`), when it
    began (`issued_at`), was last seen (`last_used_at`, to within console.session.REFRESH_EVERY)
    and must end whatever happens (`until`); `expires` is the TTL (idle or absolute end)."""
    return f"session#{digest}"


def presence(ticket_id: str) -> str:
    """`presence#<ticket id>`: who has the ticket open in the console (`viewers`: agent id → their
    name, "viewing" or "replying", and until when); `expires` is the TTL (console/presence.py)."""
    return f"presence#{ticket_id}"


def console_submit(agent_id: str, submit_id: str) -> str:
    """`submit#<agent id>#<id of one composer form>`: the console's answer or note from that form
    was taken (`ticket_id`; `data` says what it became once done); a repeat of the form (a double
    click, a resent POST) finds it and adds nothing. Kept a day (`expires`)."""
    return f"submit#{agent_id}#{submit_id}"


def _hour(hour: datetime) -> str:
    return hour.strftime("%Y-%m-%dT%H")
