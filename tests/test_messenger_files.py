"""A customer's photo, document or voice message sent on Telegram, Viber or Twilio (MMS and
WhatsApp) ends up in the files bucket, listed on their message with its real type, size and
hash, fetched by a queued job through the provider's own download API (the fake providers
here). A file the provider will not give, or that is over the desk's caps, is listed with the
reason; a failing provider is retried; nothing is fetched twice; and a media link that points
anywhere but the provider's media hosts is never requested."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from chalicelib import aws, job_kinds, outbox, stage
from chalicelib.attachments import files
from chalicelib.models import Message, Ticket
from tests.conftest import edited_desk_file, fixture_bytes, fixture_json
from tools import sample_media
from tools.fake_media import ENDLESS_CAP

LARGEST_PHOTO = "AgACAgIAAxkBAAIG0WZe6k1vQ0xq3mYb1r8h0pWc5Q2jAAKP3jEbT3H5SpmMLqQGTsblAQADAgADeQADNQQ"


def inbound() -> Message:
    """The customer's message on the only ticket."""
    [ticket] = list(Ticket.scan())
    [message] = [m for m in Message.query(ticket.ticket_id) if m.direction == "in"]
    return message


def stored_bytes(entry: dict) -> bytes:
    return aws.client("s3").get_object(Bucket=stage.files_bucket(), Key=entry["key"])["Body"].read()


def assert_kept(entry: dict, data: bytes, kind: str, name: str) -> None:
    """The entry an agent sees, and the object behind it: the very bytes the provider served."""
    assert (entry["state"], entry["type"], entry["name"]) == (files.STORED, kind, name)
    assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored_bytes(entry) == data


def objects() -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=stage.files_bucket()).get("Contents", [])
    return [item["Key"] for item in listed]


# --- each provider, each kind ---------------------------------------------------------------


def test_telegram_photo_is_fetched_in_its_largest_size(desk, providers):
    update = fixture_json("telegram", "photo_caption.json")
    for size in update["message"]["photo"][:-1]:  # the smaller sizes are other files
        providers.media.telegram(size["file_id"], sample_media.png())
    providers.media.telegram(LARGEST_PHOTO, sample_media.jpeg(), path="photos/file_7.jpg")

    desk.post_telegram(update)
    assert desk.pump() == 0

    [entry] = inbound().attachments
    assert_kept(entry, sample_media.jpeg(), "image/jpeg", "photo.jpg")
    assert entry["provider"] == "telegram" and "source" not in entry
    assert [r["path"] for r in providers.media.requests] == [
        "/file/bot123456789:local-telegram-bot-token/photos/file_7.jpg"
    ]
    assert objects() == [entry["key"]]


@pytest.mark.parametrize(
    "fixture, data, kind, name",
    [
        ("document.json", sample_media.pdf(), "application/pdf", "invoice.pdf"),
        ("voice.json", sample_media.ogg_opus(), "audio/ogg", "voice.ogg"),
    ],
)
def test_telegram_document_and_voice_are_fetched(desk, providers, fixture, data, kind, name):
    update = fixture_json("telegram", fixture)
    media = update["message"].get("document") or update["message"]["voice"]
    providers.media.telegram(media["file_id"], data)

    desk.post_telegram(update)
    desk.pump()

    [entry] = inbound().attachments
    assert_kept(entry, data, kind, name)


def test_viber_picture_is_fetched_from_its_media_link(desk, providers):
    callback = fixture_json("viber", "message_picture_text.json")
    callback["message"]["media"] = providers.media.viber("IMG_20240604_103512.jpg", sample_media.jpeg(), "image/jpeg")

    desk.post_viber(callback)
    desk.pump()

    message = inbound()
    assert message.body.endswith("Ось так виглядала коробка")
    [entry] = message.attachments
    assert_kept(entry, sample_media.jpeg(), "image/jpeg", "IMG_20240604_103512.jpg")


def twilio_mms(*media: tuple[str, str]) -> dict[str, str]:
    """The recorded MMS webhook, carrying `media` (URL, content type) items instead of its one."""
    params = dict(parse_qsl(fixture_bytes("twilio", "sms_mms_image.txt").decode()))
    params = {k: v for k, v in params.items() if not k.startswith(("MediaUrl", "MediaContentType"))}
    params["NumMedia"] = str(len(media))
    for index, (url, kind) in enumerate(media):
        params[f"MediaUrl{index}"], params[f"MediaContentType{index}"] = url, kind
    return params


def test_twilio_mms_with_two_media_items_keeps_both(desk, providers):
    photo = providers.media.twilio(sample_media.png(), "image/png", media="ME" + "1" * 32)
    scan = providers.media.twilio(sample_media.pdf(), "application/pdf", media="ME" + "2" * 32)

    desk.post_twilio(twilio_mms((photo, "image/png"), (scan, "application/pdf")))
    desk.pump()

    first, second = inbound().attachments
    assert_kept(first, sample_media.png(), "image/png", "ME" + "1" * 32 + ".png")
    assert_kept(second, sample_media.pdf(), "application/pdf", "ME" + "2" * 32 + ".pdf")
    assert first["key"] != second["key"] and sorted(objects()) == sorted([first["key"], second["key"]])
    # the account's credentials go to Twilio's API only, not to the CDN link it redirects to
    api, cdn = providers.media.fetched("/Media/"), providers.media.fetched("/twilio-cdn/")
    assert len(api) == len(cdn) == 2
    assert all(r["authorization"].startswith("Basic ") for r in api) and all(r["authorization"] is None for r in cdn)


def test_a_follow_up_message_with_a_file_is_fetched_too(desk, providers):
    desk.post_telegram(fixture_json("telegram", "photo_caption.json") | {"update_id": 1})
    update = fixture_json("telegram", "voice.json")
    update["message"]["from"] = update["message"]["chat"] = fixture_json("telegram", "photo_caption.json")["message"][
        "chat"
    ] | {"is_bot": False}
    providers.media.telegram(update["message"]["voice"]["file_id"], sample_media.ogg_opus())

    desk.post_telegram(update)
    desk.pump()

    [ticket] = list(Ticket.scan())
    assert ticket.message_count == 2
    [voice] = [m for m in Message.query(ticket.ticket_id) if m.body == "[voice message 0:07]"]
    [entry] = voice.attachments
    assert_kept(entry, sample_media.ogg_opus(), "audio/ogg", "voice.ogg")


# --- at most once, and retried ----------------------------------------------------------------


def test_a_redelivered_job_or_webhook_fetches_nothing_twice(desk, providers):
    update = fixture_json("telegram", "voice.json")
    providers.media.telegram(update["message"]["voice"]["file_id"], sample_media.ogg_opus())
    desk.post_telegram(update)
    desk.pump()
    [before] = inbound().attachments

    message = inbound()
    outbox.enqueue(job_kinds.fetch_files(message.ticket_id, message.message_key))  # SQS hands it out again
    desk.post_telegram(update)  # and Telegram delivers the update again
    desk.pump()

    assert len(providers.media.requests) == 1
    assert inbound().attachments == [before] and len(objects()) == 1


def test_a_provider_error_is_retried_until_the_file_comes(desk, providers):
    update = fixture_json("telegram", "document.json")
    providers.media.telegram(update["message"]["document"]["file_id"], sample_media.pdf())
    providers.fail("/file/bot", status=502, times=2)

    desk.post_telegram(update)
    assert inbound().attachments[0]["state"] == files.PENDING
    assert desk.pump() == 2  # two tries failed, the queue brought the job back each time

    assert_kept(inbound().attachments[0], sample_media.pdf(), "application/pdf", "invoice.pdf")


def test_a_provider_failing_on_every_try_leaves_the_file_failed_not_pending(desk, providers):
    update = fixture_json("telegram", "voice.json")
    providers.media.telegram(update["message"]["voice"]["file_id"], sample_media.ogg_opus())
    providers.fail("getFile", status=500, times=100)

    desk.post_telegram(update)
    failures = desk.pump(rounds=60)

    assert failures == outbox.MAX_RECEIVES - 1  # the last try settles the file instead of failing
    [entry] = inbound().attachments
    assert entry["state"] == files.FAILED and "Telegram kept failing for 75 minutes (HTTP 500)" in entry["reason"]
    assert desk.dead_letters() == [] and objects() == []


# --- what is not kept, and why ----------------------------------------------------------------


def test_a_viber_link_gone_is_failed_with_the_reason(desk, providers):
    callback = fixture_json("viber", "message_file.json")
    callback["message"]["media"] = f"{providers.base}/viber-media/9/report.pdf?Expires=1&Signature=x"  # nothing there

    desk.post_viber(callback)
    assert desk.pump() == 0

    [entry] = inbound().attachments
    assert (entry["state"], entry["name"], entry["size"]) == (files.FAILED, "report.pdf", 248731)
    assert entry["reason"] == (
        "Viber's link to this file has expired or is gone (Viber keeps media about an hour) (HTTP 404)"
    )
    assert objects() == []


def test_a_telegram_file_the_bot_may_not_have_is_failed_with_telegrams_words(desk, providers):
    desk.post_telegram(fixture_json("telegram", "voice.json"))  # the fake holds no such file
    desk.pump()

    [entry] = inbound().attachments
    assert entry["state"] == files.FAILED
    assert entry["reason"] == (
        "Telegram would not hand the file over (telegram getFile refused with 400: Bad Request: invalid file_id)"
    )


def test_a_telegram_file_over_20_mb_is_not_asked_for(desk, providers):
    update = fixture_json("telegram", "document.json")
    update["message"]["document"]["file_size"] = 24_000_000  # within the desk's 25 MB, past Telegram's 20

    desk.post_telegram(update)
    desk.pump()

    [entry] = inbound().attachments
    assert entry["state"] == files.FAILED and entry["reason"].startswith(
        "Telegram lets bots download files up to 20 MB, and this one is 24.0 MB"
    )
    assert providers.media.requests == [] and providers.messages("telegram")[0]["path"].endswith("/sendMessage")


@pytest.fixture
def one_mb_files(monkeypatch, tmp_path: Path):
    from chalicelib.config import settings

    monkeypatch.setenv("PROMPTLY_CONFIG", str(edited_desk_file(tmp_path, "max_file_mb = 25", "max_file_mb = 1")))
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_a_body_over_the_cap_is_refused_without_being_read_whole(desk, providers, one_mb_files):
    callback = fixture_json("viber", "message_file.json")
    url = providers.media.viber("report.pdf", b"")
    providers.media.endless(url)  # no Content-Length, and no end
    callback["message"]["media"] = url
    callback["message"]["size"] = 900_000  # what the sender says is no limit

    desk.post_viber(callback)
    desk.pump()

    [entry] = inbound().attachments
    assert (entry["state"], entry["reason"]) == (files.REFUSED, "over the 1 MB a file may be (not read past that)")
    # the fake's server thread notes what it wrote once it sees the desk hang up: a moment after
    deadline = time.monotonic() + 10
    while not providers.media.streamed and time.monotonic() < deadline:
        time.sleep(0.05)
    [written] = providers.media.streamed.values()
    assert written < ENDLESS_CAP // 4  # the desk hung up soon after its 1 MB
    assert objects() == []


def test_a_file_announced_over_the_cap_is_not_fetched(desk, providers, one_mb_files):
    update = fixture_json("telegram", "document.json")
    update["message"]["document"]["file_size"] = 3_000_000
    providers.media.telegram(update["message"]["document"]["file_id"], sample_media.pdf())

    desk.post_telegram(update)
    desk.pump()

    [entry] = inbound().attachments
    assert (entry["state"], entry["reason"]) == (files.REFUSED, "3.0 MB is over the 1 MB a file may be")
    assert providers.media.requests == []


# --- where the desk never goes ----------------------------------------------------------------


@pytest.fixture
def foreign():
    """Another server on this machine: what a link in a payload might point at."""
    from tools.fake_providers import FakeProviders

    server = FakeProviders().start()
    yield server
    server.stop()


def test_a_viber_link_to_another_host_is_never_requested(desk, providers, foreign):
    callback = fixture_json("viber", "message_picture_text.json")
    callback["message"]["media"] = foreign.media.viber("IMG.jpg", sample_media.jpeg())

    desk.post_viber(callback)
    desk.pump()

    [entry] = inbound().attachments
    assert entry["state"] == files.REFUSED
    assert entry["reason"] == "not fetched: the media link is not on Viber's media hosts (http://127.0.0.1)"
    assert foreign.media.requests == [] and providers.media.requests == []


def test_a_twilio_link_to_another_account_is_never_requested(desk, providers):
    other = providers.media.twilio(sample_media.png(), "image/png", account="AC" + "f" * 32)

    desk.post_twilio(twilio_mms((other, "image/png")))
    desk.pump()

    [entry] = inbound().attachments
    assert entry["state"] == files.REFUSED and "not this desk's Twilio account" in entry["reason"]
    assert providers.media.requests == []


def test_two_runs_of_the_job_at_once_never_clobber_each_others_files(desk, providers):
    """Run A settles the first file; run B, which read the message before that, settles the
    second and then tries the first again: A's entry stands, and B's second one joins it."""
    from chalicelib.attachments import fetch

    photo = providers.media.twilio(sample_media.png(), "image/png")
    scan = providers.media.twilio(sample_media.pdf(), "application/pdf")
    desk.post_twilio(twilio_mms((photo, "image/png"), (scan, "application/pdf")))
    run_a, run_b = inbound(), inbound()  # both read the message with its two files pending
    stored = files.listed(name="a.png", declared="image/png", size=73, state=files.STORED)
    refused = files.listed(name="b.pdf", declared="application/pdf", size=9, state=files.REFUSED, reason="test")

    fetch._record(run_a, 0, stored)
    fetch._record(run_b, 1, refused)  # B's copy of the list is stale: it reads it again
    fetch._record(run_b, 0, refused)  # and finds the first settled by A

    assert [entry["state"] for entry in inbound().attachments] == [files.STORED, files.REFUSED]


@pytest.mark.parametrize(
    "url",
    [
        "http://dl-media.viber.com/5/media/x.jpg",  # not https
        "https://dl-media.viber.com.evil.example/x.jpg",  # a look-alike host
        "https://evil.example/dl-media.viber.com/x.jpg",
        "https://user:pw@dl-media.viber.com/x.jpg",  # credentials in the URL
        "https://dl-media.viber.com:8443/x.jpg",  # another port
        "https://169.254.169.254/latest/meta-data/",  # the instance's metadata
        "file:///etc/passwd",
        "not a url at all",
        "https://[::1/x",
    ],
)
def test_only_vibers_media_hosts_are_fetched(url):
    from chalicelib.attachments import sources

    assert not sources._allowed(url, "viber", sources.VIBER_HOSTS)


def test_vibers_media_hosts_and_only_this_accounts_twilio_media_are_allowed():
    from chalicelib.attachments import sources

    assert sources._allowed("https://dl-media.viber.com/5/media/2/x.jpg?Expires=1", "viber", sources.VIBER_HOSTS)
    assert sources._allowed("https://media-direct.cdn.viber.com/download?x=1", "viber", sources.VIBER_HOSTS)
    ours = "/2010-04-01/Accounts/AC1/"
    assert sources._allowed(f"https://api.twilio.com{ours}Messages/MM1/Media/ME1", "twilio", ("api.twilio.com",), ours)
    assert not sources._allowed(
        f"https://api.twilio.com{ours}../AC2/Messages/MM1/Media/ME1", "twilio", ("api.twilio.com",), ours
    )


def test_files_past_the_jobs_time_are_fetched_by_a_job_of_their_own(desk, providers, monkeypatch):
    from chalicelib.attachments import fetch

    monkeypatch.setattr(fetch, "JOB_SECONDS", 0.0)  # as if the first file took the run's whole time
    photo = providers.media.twilio(sample_media.png(), "image/png")
    scan = providers.media.twilio(sample_media.pdf(), "application/pdf")

    desk.post_twilio(twilio_mms((photo, "image/png"), (scan, "application/pdf")))
    assert desk.pump() == 0

    assert [entry["state"] for entry in inbound().attachments] == [files.STORED, files.STORED]
    assert len(providers.media.fetched("/Media/")) == 2  # each fetched once, by two runs


def test_a_webhook_redelivered_after_its_jobs_were_lost_queues_the_fetch_again(desk, providers, monkeypatch):
    update = fixture_json("telegram", "voice.json")
    providers.media.telegram(update["message"]["voice"]["file_id"], sample_media.ogg_opus())
    queue = outbox.enqueue_many
    calls = []

    def lost_once(jobs):  # the message is stored, then the worker dies before its jobs are queued
        calls.append([job["kind"] for job in jobs])
        if len(calls) == 1:
            raise RuntimeError("the worker died")
        queue(jobs)

    monkeypatch.setattr(outbox, "enqueue_many", lost_once)
    assert desk.post_telegram(update).status_code >= 500
    monkeypatch.setattr(outbox, "enqueue_many", queue)
    assert inbound().attachments[0]["state"] == files.PENDING

    monkeypatch.setattr(outbox, "enqueue_many", lost_once)
    assert desk.post_telegram(update).status_code == 200  # Telegram delivers the update again
    desk.pump()

    assert calls[1] == ["new_ticket", "fetch_files"]  # one SendMessageBatch, as the first delivery's
    assert_kept(inbound().attachments[0], sample_media.ogg_opus(), "audio/ogg", "voice.ogg")


def test_twilio_media_missing_is_waited_for_on_the_first_tries_then_failed(desk, providers):
    """Twilio may announce media a moment before it can be fetched: a 404 is believed on the third try."""
    missing = (
        f"{providers.base}/2010-04-01/Accounts/{desk.env['PROMPTLY_SECRET_TWILIO_ACCOUNT_SID']}/Messages/MM1/Media/ME9"
    )

    desk.post_twilio(twilio_mms((missing, "image/jpeg")))
    assert desk.pump() == 2

    [entry] = inbound().attachments
    assert (entry["state"], entry["reason"]) == (
        files.FAILED,
        "Twilio has no such media: deleted, or never stored (HTTP 404)",
    )
    assert len(providers.media.fetched("/Media/ME9")) == 3


@pytest.mark.parametrize(
    ("target", "followed"),
    [
        ("https://media.twiliocdn.com/AC1/abc", True),
        ("https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/abc", True),
        ("https://com-twilio-us1-mms.s3.amazonaws.com/abc", True),
        ("https://media.s3.us-east-1.amazonaws.com/abc", True),
        ("https://s3.eu-west-1.amazonaws.com/bucket/abc", True),
        ("https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/abc", False),
        ("https://ec2-203-0-113-5.compute-1.amazonaws.com/abc", False),
        ("https://s3-evil.execute-api.us-east-1.amazonaws.com/abc", False),
        ("http://media.s3.amazonaws.com/abc", False),
    ],
)
def test_twilio_media_is_followed_to_its_cdn_or_s3_only(target: str, followed: bool) -> None:
    from chalicelib.attachments import sources

    assert sources.twilio_may_redirect(target) is followed
