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
  website chat, whose backend takes text only. Twilio takes 1,600 characters (UTF-16 units) of
  Body: the links must fit in it with room for the agent's words, or the file is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import stage

MB = 1_000_000
TEXT_ROOM = 320  # UTF-16 units an SMS keeps for the agent's words beside the links (two segments)
# "/f/" and the longest token customer_links.url writes: ticket, message, NN-sha16, expiry, MAC
_LINK_PATH = len("/f/") + 40 + 1 + 18 + 1 + 19 + 1 + 10 + 1 + 32
_LINE_FRAME = len("📎 () : \n") + 1 + 10  # delivery.link_lines' words around a name and a URL; a size

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
    max_text: int | None = None  # UTF-16 units of a message's text, its links included


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
    "sms": Reach(LINK, name="SMS", max_text=1600),  # Twilio's Body limit (twilio.MAX_TEXT)
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


def link_units(name: str) -> int:
    """The most UTF-16 units the customer's link line to a file named `name` takes in the text
    (delivery.link_lines), its line break included."""
    return len(name.encode("utf-16-le")) // 2 + len(stage.public_url()) + _LINK_PATH + _LINE_FRAME


def refusal(channel: str, name: str, size: int, total: int, links: int = 0) -> Refusal | None:
    """None when `channel` can take a file of `size` bytes named `name`, with `total` bytes and
    `links` UTF-16 units of link lines (`link_units`) of the answer's files before it; else why not."""
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
    if rule.max_text is not None and links + link_units(name) > rule.max_text - TEXT_ROOM:
        values["limit"] = f"{rule.max_text:,}"
        return Refusal(
            "upload_channel_links",
            values,
            f"the links to the answer's files would not fit, with its text, in {values['channel']}'s "
            f"{values['limit']} characters",
        )
    return None
