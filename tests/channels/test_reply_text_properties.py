"""Properties of reply stripping: whatever the customer writes between, above or below quoted
blocks is stored, in order and unchanged; what is stored is never text the mail did not have;
and stripping what was stored changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.channels.reply_text import FORWARDED_MARK, is_marker_line, strip_quoted

PROPERTY = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)

# Letters of any script, digits, punctuation (":" "-" "*" "_" included) and spaces: the filter
# leaves out only lines that could be a marker on their own.
customer_lines = st.text(
    st.characters(categories=("L", "N", "P", "Zs"), exclude_characters="\r\n\x85\u2028\u2029"),
    min_size=1,
    max_size=50,
).filter(lambda line: bool(line.strip()) and not is_marker_line(line))
quote_lines = st.builds(
    lambda prefix, text: prefix + text,
    st.sampled_from([">", "> ", "  > ", ">> ", "> > "]),
    st.text(st.characters(exclude_characters="\r\n\x85\u2028\u2029"), max_size=40),
)
ATTRIBUTIONS = [
    "On Mon, 3 Jun 2024 at 10:15, Anna <anna@example.com> wrote:",
    "On Mon, Jun 3, 2024 at 10:15 AM Anna <\nanna@example.com> wrote:",
    "On 3 Jun 2024, Anna wrote",
    "03.06.2024 10:15, Анна пишет:",
    "пн, 3 черв. 2024 р. о 10:15 Anna <anna@example.com> пише:",
    "Am 03.06.24 um 10:15 schrieb Anna:",
    "Le lun. 3 juin 2024 à 10:15, Anna <anna@example.com> a écrit :",
    "---- On Mon, 03 Jun 2024 10:15:22 +0100 Anna <anna@example.com> wrote ----",
]


@dataclass(frozen=True)
class Reply:
    text: str
    customer: list[str]  # the customer's non-blank lines, in order


@st.composite
def replies(draw: st.DrawFn) -> Reply:
    """Customer paragraphs and quoted blocks (some introduced by an attribution) in any order,
    blank lines anywhere between, an optional "-- " signature at the end."""
    lines: list[str] = []
    customer: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            written = draw(st.lists(customer_lines, min_size=1, max_size=4))
            lines += written
            customer += written
        else:
            attribution = draw(st.sampled_from([None, *ATTRIBUTIONS]))
            lines += [attribution] if attribution else []
            lines += [""] * draw(st.integers(0, 1))
            lines += draw(st.lists(quote_lines, min_size=1, max_size=4))
        lines += [""] * draw(st.integers(0, 2))
    if draw(st.booleans()):
        lines += ["-- ", *draw(st.lists(customer_lines, min_size=1, max_size=3))]
    return Reply("\n".join(lines), customer)


@PROPERTY
@given(replies())
def test_every_line_the_customer_wrote_is_stored_in_order_and_unchanged(reply: Reply) -> None:
    stored = strip_quoted(reply.text)
    if reply.customer:
        assert [line for line in stored.split("\n") if line.strip()] == reply.customer
    else:
        assert stored == reply.text  # only quotes (or a signature): nothing is thrown away


@PROPERTY
@given(replies())
def test_stripping_what_was_stored_changes_nothing(reply: Reply) -> None:
    stored = strip_quoted(reply.text)
    assert strip_quoted(stored) == stored


@PROPERTY
@given(replies(), st.sampled_from(["", "\r\n"]))
def test_windows_line_ends_read_like_unix_ones(reply: Reply, ending: str) -> None:
    assert strip_quoted(reply.text.replace("\n", ending or "\n")) == strip_quoted(reply.text)


# Any mix of marker lines and text: whatever is stored, each line was in the mail (in order),
# but for the one line that says a forward begins.
MARKERS = [
    "> quoted",
    "",
    "-- ",
    "--",
    "From: Anna <anna@example.com>",
    "Sent: Monday, June 3, 2024 10:15",
    "Date: Mon, 3 Jun 2024",
    "Subject: Re: x",
    "Від: Анна",
    "-----Original Message-----",
    "---------- Forwarded message ---------",
    "Begin forwarded message:",
    "-------- Конец пересылаемого сообщения --------",
    "________________________________",
    "Sent from my iPhone",
    "Get Outlook for iOS<https://aka.ms/o0ukef>",
    "users mailing list",
    *ATTRIBUTIONS,
]
wild_lines = st.one_of(st.sampled_from(MARKERS), customer_lines, st.text(max_size=30))


def _is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    rest = iter(haystack)
    return all(any(line == candidate for candidate in rest) for line in needle)


@PROPERTY
@given(st.lists(wild_lines, max_size=25), st.sampled_from(["", "Re: x", "Fwd: x", "FW: x", "WG: x", "TR: x"]))
def test_nothing_is_stored_that_the_mail_did_not_have(lines: list[str], subject: str) -> None:
    text = "\n".join(lines)
    stored = strip_quoted(text, subject).split("\n")
    assert stored.count(FORWARDED_MARK) <= 1 + text.count(FORWARDED_MARK)
    kept = [line for line in stored if line != FORWARDED_MARK]
    assert _is_subsequence(kept, text.replace("\r\n", "\n").split("\n"))
