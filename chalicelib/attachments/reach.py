"""How an agent's file reaches the customer on each channel, and what each provider takes: the
one table the composer's upload check and the answer's own check read, so a file the customer's
channel would refuse is refused when the agent picks it, not found later in a dead-letter queue.

The numbers are the providers' documented limits (checked in late November 2026):
- email: SES's v1 API (`SendRawEmail`) takes 10 MB per message *after* base64, which grows
  bytes by a third; with the text and headers, 7 MB of files together is what fits.
- Telegram Bot API: `sendPhoto` up to 10 MB, `sendDocument` up to 50 MB, bytes uploaded as
  multipart/form-data (https://core.telegram.org/bots/api#sending-files).
- Viber REST bot API: a `picture` message is a JPEG, PNG or GIF up to 1 MB; a `file` message up
  to 50 MB, its name at most 256 characters, and Viber refuses executable and script files by
  their extension; both by a URL Viber fetches.
- Twilio WhatsApp: one media per message by `MediaUrl`, up to 16 MB, which
  Twilio fetches when it sends.
- SMS has no files (MMS is US/Canada only): the text carries a link instead, as does the
  website chat, whose backend takes text only.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1_000_000

# How the file travels.
MIME = "mime"  # attached to the mail itself
UPLOAD = "upload"  # its bytes posted to the provider, one call per file
URL = "url"  # a presigned GET the provider fetches, one message per file
LINK = "link"  # a link to the desk's own /f/<token> route in the text

# Viber's refused extensions: programs and scripts (its REST API's "forbidden file formats").
VIBER_FORBIDDEN = frozenset(
    [
        "asp",
        "bat",
        "bin",
        "class",
        "cmd",
        "com",
        "cpl",
        "crt",
        "dll",
        "dmg",
        "exe",
        "hta",
        "inf",
        "ins",
        "isp",
        "jar",
        "js",
        "jse",
        "lib",
        "lnk",
        "mde",
        "msc",
        "msi",
        "msp",
        "mst",
        "nsh",
        "pif",
        "ps1",
        "scr",
        "sct",
        "shb",
        "sys",
        "vb",
        "vbe",
        "vbs",
        "vxd",
        "wsc",
        "wsf",
        "wsh",
    ]
)


@dataclass(frozen=True)
class Reach:
    """What a channel takes of an agent's files, and how they travel."""

    how: str
    max_file: int | None = None  # bytes of one file (None: the desk's own caps only)
    max_total: int | None = None  # bytes of one answer's files together
    images: tuple[str, ...] = ()  # types sent as a picture (a photo, not a document)
    max_image: int | None = None  # bytes of a file sent as a picture; a bigger one goes as a document
    forbidden: frozenset[str] = frozenset()  # file name extensions the provider refuses
    name: str = ""  # the provider as the agent knows it


CHANNELS: dict[str, Reach] = {
    "email": Reach(MIME, max_total=7 * MB, name="email"),
    "form": Reach(MIME, max_total=7 * MB, name="email"),
    "telegram": Reach(
        UPLOAD, max_file=50 * MB, images=("image/png", "image/jpeg", "image/webp"), max_image=10 * MB, name="Telegram"
    ),
    "viber": Reach(
        URL,
        max_file=50 * MB,
        images=("image/png", "image/jpeg", "image/gif"),
        max_image=1 * MB,
        forbidden=VIBER_FORBIDDEN,
        name="Viber",
    ),
    "whatsapp": Reach(URL, max_file=16 * MB, name="WhatsApp"),
    "sms": Reach(LINK, name="SMS"),
    "chat": Reach(LINK, name="the website chat"),
}
LINKED = Reach(LINK)  # a channel not in the table: links always work


def reach(channel: str) -> Reach:
    return CHANNELS.get(channel, LINKED)


def is_picture(channel: str, kind: str, size: int) -> bool:
    """Whether the file goes as a picture (Telegram's photo, Viber's picture message) rather
    than a document: a type the channel shows as a photo, within its picture limit."""
    rule = reach(channel)
    return kind in rule.images and (rule.max_image is None or size <= rule.max_image)


@dataclass(frozen=True)
class Refusal:
    """Why the customer's channel cannot take a file: `key` names the words (console words
    `upload_*`), `values` fill them; `text` says it in English (the API, the logs)."""

    key: str
    values: dict[str, str]
    text: str


def refusal(channel: str, name: str, size: int, total: int) -> Refusal | None:
    """None when `channel` can take a file of `size` bytes named `name`, with `total` bytes of
    the answer's files before it; else why not."""
    rule = reach(channel)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    values = {"channel": rule.name or channel, "limit": ""}
    if extension and extension in rule.forbidden:
        values["limit"] = f".{extension}"
        return Refusal("upload_channel_type", values, f"{values['channel']} does not deliver .{extension} files")
    if rule.max_file is not None and size > rule.max_file:
        values["limit"] = f"{rule.max_file // MB} MB"
        return Refusal("upload_channel_size", values, f"{values['channel']} takes files up to {values['limit']}")
    if rule.max_total is not None and total + size > rule.max_total:
        values["limit"] = f"{rule.max_total // MB} MB"
        return Refusal(
            "upload_channel_total", values, f"{values['channel']} takes up to {values['limit']} of files per answer"
        )
    return None
