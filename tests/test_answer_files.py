"""An agent attaches files to an answer and the customer receives them on their channel: as parts
of the mail, as Telegram photos and documents (each file once, however often the job runs or a
provider fails), as links on SMS; and every file the desk may not send is refused before the
answer is saved, with nothing changed."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from email import message_from_bytes, policy
from urllib.parse import unquote, urlsplit

import pytest
import requests

from tests.attach_send import FORM, HTML, PDF, PNG, answer, ask, upload
from tests.test_channels import telegram_update, twilio_sms
from tools.local import sqs_event


def objects(prefix: str) -> dict[str, bytes]:
    from chalicelib import aws, stage

    s3 = aws.client("s3")
    found = s3.list_objects_v2(Bucket=stage.files_bucket(), Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=stage.files_bucket(), Key=o["Key"])["Body"].read() for o in found}


def mails_to(address: str) -> list:
    sends = requests.get("http://motoapi.amazonaws.com/moto-api/data.json", timeout=5).json()["ses"]["RawMessage"]
    mails = [message_from_bytes(send["raw_data"].encode(), policy=policy.default) for send in sends]
    return [mail for mail in mails if address in str(mail["To"])]


def conversation(desk, token: str, ticket_id: str) -> list[dict]:
    return desk.api("GET", f"/api/tickets/{ticket_id}", token).json_body["conversation"]


def newest_ticket(desk, token: str, channel: str) -> str:
    """The ticket a messenger's webhook just opened (the webhook's answer is the provider's)."""
    desk.pump()
    listing = desk.api("GET", "/api/tickets", token).json_body["tickets"]
    return str(next(t["ticket"] for t in listing if t["channel"] == channel))


def telegram_ticket(desk, token: str) -> str:
    desk.post_telegram(telegram_update())
    return newest_ticket(desk, token, "telegram")


def run_next_job(desk, times: int) -> None:
    """Hand the next outbox job to the worker `times` times, as SQS does when it redelivers."""
    from chalicelib import aws, stage

    sqs = aws.client("sqs")
    url = aws.queue_url(stage.outbox_queue())
    message = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"])["Messages"][0]
    for _ in range(times):
        desk.client.lambda_.invoke("outbox_worker", sqs_event(message))
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


# --- email -------------------------------------------------------------------------------------
def test_an_answer_with_two_files_reaches_the_customer_as_two_mime_parts(desk, team):
    olena = team["olena"]["token"]
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()
    keys = [
        upload(desk, olena, ticket_id, "screen.png", "image/png", PNG),
        upload(desk, olena, ticket_id, "Рахунок.pdf", "application/pdf", PDF),
    ]

    answered = answer(desk, olena, ticket_id, "Here is the invoice and the screenshot.", keys)
    assert answered.status_code == 201, answered.json_body
    desk.pump()

    mail = mails_to("olga@example.com")[-1]
    parts = [(part.get_filename(), part.get_content_type(), part.get_content()) for part in mail.iter_attachments()]
    assert parts == [("screen.png", "image/png", PNG), ("Рахунок.pdf", "application/pdf", PDF)]
    assert "Here is the invoice" in mail.get_body(preferencelist=("plain",)).get_content()
    # kept under the answer, listed on it, and the uploads are gone
    message_id = answered.json_body["message_id"]
    kept = objects(f"tickets/{ticket_id}/{message_id}/")
    assert sorted(kept.values()) == sorted([PNG, PDF])
    assert objects("uploads/") == {}
    entry = next(e for e in conversation(desk, olena, ticket_id) if e["id"] == message_id)
    assert [(f["name"], f["type"], f["state"]) for f in entry["attachments"]] == [
        ("screen.png", "image/png", "stored"),
        ("Рахунок.pdf", "application/pdf", "stored"),
    ]


def test_a_file_alone_is_an_answer_and_nothing_at_all_is_not(desk, team):
    olena = team["olena"]["token"]
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()
    assert answer(desk, olena, ticket_id, "", []).status_code == 400

    key = upload(desk, olena, ticket_id, "invoice.pdf", "application/pdf", PDF)
    assert answer(desk, olena, ticket_id, "", [key]).status_code == 201
    desk.pump()
    mail = mails_to("olga@example.com")[-1]
    assert [part.get_content() for part in mail.iter_attachments()] == [PDF]
    assert "Olena Koval" in mail.get_body(preferencelist=("plain",)).get_content()  # still signed


# --- Telegram: one call per file, each exactly once --------------------------------------------
def sent_files(providers) -> list[tuple[str, str, str]]:
    """(method, file name, sha256) of every file Telegram took."""
    return [
        (m["path"].rsplit("/", 1)[-1], f["name"], f["sha256"])
        for m in providers.messages("telegram")
        for f in m["payload"].get("files", [])
    ]


def texts(providers) -> list[str]:
    return [m["payload"]["text"] for m in providers.messages("telegram") if m["path"].endswith("sendMessage")]


def telegram_answer(desk, team) -> str:
    olena = team["olena"]["token"]
    ticket_id = telegram_ticket(desk, olena)
    keys = [
        upload(desk, olena, ticket_id, "screen.png", "image/png", PNG),
        upload(desk, olena, ticket_id, "manual.pdf", "application/pdf", PDF),
    ]
    assert answer(desk, olena, ticket_id, "See the photo and the manual.", keys).status_code == 201
    return ticket_id


EXPECTED = [
    ("sendPhoto", "screen.png", hashlib.sha256(PNG).hexdigest()),
    ("sendDocument", "manual.pdf", hashlib.sha256(PDF).hexdigest()),
]


def test_two_files_are_a_photo_and_a_document_on_telegram_after_the_text_once_each_when_redelivered(
    desk, team, providers
):
    telegram_answer(desk, team)
    run_next_job(desk, times=2)  # SQS hands the same job over twice

    assert sent_files(providers) == EXPECTED
    assert sum("See the photo" in text for text in texts(providers)) == 1
    assert [m["path"].rsplit("/", 1)[-1] for m in providers.messages("telegram")][-3:] == [
        "sendMessage",
        "sendPhoto",
        "sendDocument",
    ]  # the text first


def test_a_failure_on_the_second_file_retries_that_file_alone(desk, team, providers):
    telegram_answer(desk, team)
    providers.fail("sendDocument", status=502, times=1)
    desk.pump()

    assert sent_files(providers) == EXPECTED  # the photo once, the document once (on the retry)
    assert sum("See the photo" in text for text in texts(providers)) == 1
    assert desk.dead_letters() == []


# --- refusals: said before anything is saved ---------------------------------------------------
def test_the_uploads_route_refuses_what_cannot_go(desk, team):
    olena = team["olena"]["token"]
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()

    def refused(name: str, kind: str, size: int, **more: int) -> str:
        asked = ask(desk, olena, ticket_id, name, kind, size, **more)
        assert asked.status_code == 400, asked.json_body
        return str(asked.json_body["Message"])

    assert "type image/svg+xml" in refused("logo.svg", "image/svg+xml", 500)
    assert "over 25 MB" in refused("video.zip", "application/zip", 26_000_000)
    assert "at most 20 files" in refused("one-more.pdf", "application/pdf", 100, count=20)
    assert "at most 40 MB" in refused("big.pdf", "application/pdf", 20_000_000, total=21_000_000)
    assert "email takes up to 7 MB" in refused("scan.pdf", "application/pdf", 8_000_000)  # SES's limit
    assert "empty" in refused("nothing.txt", "text/plain", 0)


def test_a_channel_limit_is_said_before_sending(desk, team):
    olena = team["olena"]["token"]
    desk.post_twilio(twilio_sms(sender="whatsapp:+380501234567"))
    ticket_id = newest_ticket(desk, olena, "whatsapp")

    refused = ask(desk, olena, ticket_id, "scan.pdf", "application/pdf", 17_000_000)
    assert refused.status_code == 400
    assert refused.json_body["Message"] == "scan.pdf: WhatsApp takes files up to 16 MB"
    assert ask(desk, olena, ticket_id, "scan.pdf", "application/pdf", 15_000_000).status_code == 201


def test_only_who_may_answer_the_ticket_gets_an_upload(desk, team):
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()
    assert answer(desk, team["olena"]["token"], ticket_id, "Mine now.", []).status_code == 201

    def asks(token: str | None) -> int:
        return int(ask(desk, token, ticket_id, "a.pdf", "application/pdf", 100).status_code)

    assert asks(team["olena"]["token"]) == 201
    assert asks(team["lead"]["token"]) == 201  # a lead may answer any ticket
    assert asks(team["taras"]["token"]) == 409  # another agent of the queue: the ticket is Olena's
    assert asks(team["tech"]["token"]) == 404  # not in the ticket's queue: no such ticket for them
    assert asks(None) == 401


def test_bytes_that_are_not_what_the_browser_said_are_refused_and_nothing_changes(desk, team):
    olena = team["olena"]["token"]
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()
    key = upload(desk, olena, ticket_id, "photo.png", "image/png", HTML)  # an HTML page called a PNG
    before = conversation(desk, olena, ticket_id)

    refused = answer(desk, olena, ticket_id, "Look at this.", [key])

    assert refused.status_code == 400
    assert "its bytes are unknown" in refused.json_body["Message"]
    assert conversation(desk, olena, ticket_id) == before
    assert objects(f"tickets/{ticket_id}/") == {}
    assert list(objects("uploads/")) == [key]  # kept: the agent may remove it and send again


TEXT_RULE = "a text file goes only as plain text (no markup) named .txt, .csv, .log or without an extension"


def test_a_web_page_cannot_go_to_a_customer_as_plain_text(desk, team):
    """Any UTF-8 once passed as text/plain: an HTML page (script and all) mailed as invoice.html."""
    olena = team["olena"]["token"]
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()

    asked = ask(desk, olena, ticket_id, "invoice.html", "text/plain", len(HTML))
    assert (asked.status_code, asked.json_body["Message"]) == (400, f"invoice.html: {TEXT_RULE}")

    key = upload(desk, olena, ticket_id, "notes.txt", "text/plain", b"\xef\xbb\xbf \n " + HTML)
    refused = answer(desk, olena, ticket_id, "see attached", [key])
    assert (refused.status_code, refused.json_body["Message"]) == (400, f"notes.txt: {TEXT_RULE}")

    plain = upload(desk, olena, ticket_id, "notes.txt", "text/plain", "Рахунок: 100 грн < 200 грн\n".encode())
    assert answer(desk, olena, ticket_id, "see attached", [plain]).status_code == 201
    desk.pump()
    [mail] = mails_to("olga@example.com")[-1:]
    assert [(p.get_filename(), p.get_content_type()) for p in mail.iter_attachments()] == [("notes.txt", "text/plain")]


def s3_checks_copy_source_if_match(before_copy) -> None:
    """S3 refuses a CopyObject whose CopySourceIfMatch is not the source's ETag (412
    PreconditionFailed, as AWS documents it); moto 5.2.5 ignores that header, so the check is
    made here, on the desk's own client, after `before_copy` (the race) has run."""
    from botocore.exceptions import ClientError

    from chalicelib import aws, stage

    s3 = aws.client("s3")

    def check(params, **_):
        before_copy()
        bucket, _, source = unquote(params["CopySource"]).partition("/")  # botocore wrote "bucket/key" by now
        etag = s3.head_object(Bucket=bucket, Key=source)["ETag"]
        if params.get("CopySourceIfMatch") != etag:
            error = {
                "Code": "PreconditionFailed",
                "Message": "At least one of the pre-conditions you specified did not hold",
            }
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 412}}, "CopyObject")

    s3.meta.events.register("before-parameter-build.s3.CopyObject", check, unique_id="if-match")
    assert stage.files_bucket()


def test_an_upload_replaced_after_the_desks_check_is_not_sent(desk, team):
    """The presigned POST can be used again for minutes: an HTML page posted over the checked
    PNG between the desk's read and its copy would have been mailed as invoice.png."""
    from chalicelib import aws

    olena = team["olena"]["token"]
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()
    asked = ask(desk, olena, ticket_id, "invoice.png", "image/png", len(PNG)).json_body["links"]
    form, key = asked["upload_form"], asked["upload_key"]

    def post(data: bytes) -> None:
        requests.post(form["url"], data=form["fields"], files={"file": ("invoice.png", data, "image/png")}, timeout=10)

    post(PNG)
    before = conversation(desk, olena, ticket_id)
    s3_checks_copy_source_if_match(lambda: post(HTML))
    try:
        refused = answer(desk, olena, ticket_id, "Here you go", [key])
    finally:
        aws.client("s3").meta.events.unregister("before-parameter-build.s3.CopyObject", unique_id="if-match")
    desk.pump()

    assert refused.status_code == 400
    assert refused.json_body["Message"] == "invoice.png changed while it was being attached: attach it again"
    assert conversation(desk, olena, ticket_id) == before
    assert not [p for mail in mails_to("olga@example.com") for p in mail.iter_attachments()]
    assert objects(f"tickets/{ticket_id}/") == {}


def test_an_untouched_upload_is_copied_as_checked(desk, team):
    olena = team["olena"]["token"]
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    desk.pump()
    key = upload(desk, olena, ticket_id, "invoice.png", "image/png", PNG)
    s3_checks_copy_source_if_match(lambda: None)
    try:
        sent = answer(desk, olena, ticket_id, "Here you go", [key])
    finally:
        from chalicelib import aws

        aws.client("s3").meta.events.unregister("before-parameter-build.s3.CopyObject", unique_id="if-match")

    assert sent.status_code == 201, sent.json_body
    assert list(objects(f"tickets/{ticket_id}/").values()) == [PNG]


@pytest.mark.parametrize(
    "whose",
    ["another agent's", "another ticket's", "outside uploads/", "a path trick"],
)
def test_an_answer_takes_only_the_agents_own_uploads_on_this_ticket(desk, team, whose):
    olena, lead = team["olena"]["token"], team["lead"]["token"]
    ticket_id = desk.post_form(FORM).json_body["ticket"]
    other_id = desk.post_form({**FORM, "submission_id": "files-2", "subject": "Other"}).json_body["ticket"]
    desk.pump()
    mine = upload(desk, olena, ticket_id, "a.pdf", "application/pdf", PDF)
    key = {
        "another agent's": upload(desk, lead, ticket_id, "b.pdf", "application/pdf", PDF),
        "another ticket's": upload(desk, olena, other_id, "c.pdf", "application/pdf", PDF),
        "outside uploads/": f"tickets/{other_id}/M-0000000000000000/00-0000000000000000",
        "a path trick": mine.rsplit("/", 1)[0] + "/../../" + other_id + "/x",
    }[whose]
    before = conversation(desk, olena, ticket_id)

    refused = answer(desk, olena, ticket_id, "Here.", [mine, key])

    assert refused.status_code == 400
    assert refused.json_body["Message"] == "a file is not one you uploaded to this ticket"
    assert conversation(desk, olena, ticket_id) == before
    assert mine in objects("uploads/")


# --- SMS: a link instead of the file -----------------------------------------------------------
def test_sms_gets_a_link_that_works_and_a_forged_or_old_one_does_not(desk, team, providers):
    olena = team["olena"]["token"]
    desk.post_twilio(twilio_sms())
    ticket_id = newest_ticket(desk, olena, "sms")
    key = upload(desk, olena, ticket_id, "manual.pdf", "application/pdf", PDF)
    long_text = "The manual: " + "read it carefully. " * 100  # past an SMS's 1,600 characters
    assert answer(desk, olena, ticket_id, long_text, [key]).status_code == 201
    desk.pump()

    body = [m["payload"]["Body"] for m in providers.messages("twilio")][-1]
    assert len(body) <= 1600 and body.startswith("The manual:")  # the text is cut, never the link
    link = next(word for word in body.split() if "/f/" in word)
    path = urlsplit(link).path
    opened = desk.client.http.get(path)
    assert opened.status_code == 303
    fetched = requests.get(opened.headers["Location"], timeout=5)
    assert fetched.content == PDF
    assert "attachment" in fetched.headers["Content-Disposition"]

    token = path.rsplit("/", 1)[-1]
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    other_file = token.replace(".M-", ".M-f", 1)[: len(token)]
    for bad in (forged, other_file, "x", token + ".", "../" + token):
        assert desk.client.http.get(f"/f/{bad}").status_code in (403, 404), bad
    desk.advance(timedelta(days=8))
    assert desk.client.http.get(path).status_code == 410


def test_sms_refuses_the_file_whose_link_would_not_fit_and_never_cuts_a_link(desk, team, providers):
    """Eight long-named files once cut the agent's text to "…" and Twilio cut the links after
    1,600 characters, the answer still recorded as sent with every file."""
    olena = team["olena"]["token"]
    desk.post_twilio(twilio_sms())
    ticket_id = newest_ticket(desk, olena, "sms")
    names = [f"Рахунок-{i:02d}-" + "я" * 100 + ".pdf" for i in range(8)]
    keys = [upload(desk, olena, ticket_id, name, "application/pdf", PDF) for name in names]
    before = conversation(desk, olena, ticket_id)
    sent_before = len(providers.messages("twilio"))

    refused = answer(desk, olena, ticket_id, "Your invoices", keys)

    assert refused.status_code == 400
    assert refused.json_body["Message"] == (
        f"{names[4]}: the links to the answer's files would not fit, with its text, in SMS's 1,600 characters"
    )
    assert conversation(desk, olena, ticket_id) == before
    desk.pump()
    assert len(providers.messages("twilio")) == sent_before

    assert answer(desk, olena, ticket_id, "Your invoices", keys[:4]).status_code == 201
    desk.pump()
    body = providers.messages("twilio")[-1]["payload"]["Body"]
    lines = [line for line in body.split("\n") if line.startswith("📎")]
    assert body.startswith("Your invoices\n\n— Olena Koval") and "…" not in body
    assert [line.split(" (", 1)[0] for line in lines] == [f"📎 {name}" for name in names[:4]]
    assert all("/f/PR-" in line for line in lines)


def test_links_that_would_not_fit_an_sms_are_a_permanent_error_not_a_cut(desk):
    from chalicelib import clock
    from chalicelib.attachments import delivery, files
    from chalicelib.providers import ProviderError

    entries = [
        files.FileEntry(
            name="я" * 120, type="application/pdf", size=2000, key=f"tickets/PR-1/M-{0:016x}/{i:02d}-{0:016x}"
        )
        for i in range(8)
    ]
    fits = delivery.with_links("Your invoices", entries[:4], clock.now(), limit=1600)
    assert fits.startswith("Your invoices\n\n📎") and fits.count("/f/") == 4

    with pytest.raises(ProviderError) as raised:
        delivery.with_links("Your invoices", entries, clock.now(), limit=1600)
    assert not raised.value.retryable


def test_sms_links_are_refused_when_picked_once_even_the_shortest_earlier_ones_leave_no_room(desk, team):
    olena = team["olena"]["token"]
    desk.post_twilio(twilio_sms())
    ticket_id = newest_ticket(desk, olena, "sms")

    asked = ask(desk, olena, ticket_id, "a.pdf", "application/pdf", len(PDF), count=9)

    assert asked.status_code == 400
    assert "would not fit, with its text, in SMS's 1,600 characters" in asked.json_body["Message"]


# --- Viber and WhatsApp: a message per file, by a URL the provider fetches ----------------------
def fetched(url: str) -> bytes:
    return requests.get(url, timeout=5).content


def test_viber_gets_a_picture_message_and_a_file_message_it_can_fetch(desk, team, providers):
    from tests.test_channels import viber_message

    olena = team["olena"]["token"]
    desk.post_viber(viber_message())
    ticket_id = newest_ticket(desk, olena, "viber")
    assert ask(desk, olena, ticket_id, "setup.exe", "application/pdf", 100).json_body["Message"] == (
        "setup.exe: Viber does not deliver .exe files"
    )
    keys = [
        upload(desk, olena, ticket_id, "screen.png", "image/png", PNG),
        upload(desk, olena, ticket_id, "manual.pdf", "application/pdf", PDF),
    ]
    assert answer(desk, olena, ticket_id, "Both files:", keys).status_code == 201
    desk.pump()

    text, picture, file = [m["payload"] for m in providers.messages("viber")][-3:]
    assert text["type"] == "text" and "Both files:" in text["text"]
    assert picture["type"] == "picture" and fetched(picture["media"]) == PNG
    assert (file["type"], file["file_name"], file["size"]) == ("file", "manual.pdf", len(PDF))
    assert fetched(file["media"]) == PDF


def test_whatsapp_gets_one_media_per_message(desk, team, providers):
    olena = team["olena"]["token"]
    desk.post_twilio(twilio_sms(sender="whatsapp:+380501234567"))
    ticket_id = newest_ticket(desk, olena, "whatsapp")
    keys = [
        upload(desk, olena, ticket_id, "screen.png", "image/png", PNG),
        upload(desk, olena, ticket_id, "manual.pdf", "application/pdf", PDF),
    ]
    assert answer(desk, olena, ticket_id, "Both files:", keys).status_code == 201
    desk.pump()

    sent = [m["payload"] for m in providers.messages("twilio")][-3:]
    assert "MediaUrl" not in sent[0] and "Both files:" in sent[0]["Body"]
    assert [(m["Body"], fetched(m["MediaUrl"])) for m in sent[1:]] == [("screen.png", PNG), ("manual.pdf", PDF)]
