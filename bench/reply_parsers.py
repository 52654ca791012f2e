"""Our reply stripping against the maintained libraries, on our own corpus (tests/fixtures/replies/).

    python -m bench.reply_parsers

Each case's body goes through every parser that is installed; the table says, per parser, how many
cases come out exactly as the corpus expects, how many lose a line the customer wrote (a line of the
expected text missing from the result) and how many keep history (a result line the expected text
does not have), then the median time per case and the time for a 1 MB reply. HTML cases are turned
into text by the desk's own `html_to_text` first, so every parser reads the same text.

mail-parser-reply and email-reply-parser are small pure-Python packages in requirements-dev.txt.
talon pulls in scikit-learn, SciPy, NumPy and lxml (about 220 MB) and takes about 0.9 s to import,
so it is not in the dev requirements; to include it, run this bench from a scratch venv that has
talon and the desk's requirements-dev.txt.
"""

from __future__ import annotations

import statistics
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT, table

CORPUS = ROOT / "tests" / "fixtures" / "replies"
Parser = Callable[[str, str], str]


@dataclass(frozen=True)
class Case:
    name: str
    language: str
    subject: str
    text: str
    expected: str


def corpus() -> list[Case]:
    from chalicelib.channels.email import html_to_text

    cases = []
    for path in sorted(CORPUS.glob("*.toml")):
        for case in tomllib.loads(path.read_text(encoding="utf-8")).get("case", []):
            text = case["text"] if "text" in case else html_to_text(case["html"])
            cases.append(
                Case(
                    name=f"{path.stem}:{case['name']}",
                    language=case.get("language", path.stem),
                    subject=case.get("subject", ""),
                    text=text,
                    expected=case["expected"].strip("\n"),
                )
            )
    return cases


def parsers() -> dict[str, Parser]:
    from chalicelib.channels.email import strip_quoted

    found: dict[str, Parser] = {"Promptly (ours)": lambda text, subject: strip_quoted(text, subject)}
    try:
        from mailparser_reply import EmailReplyParser as MailParserReply  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        # All its languages: a reply's language is not known before it is read.
        languages = ["en", "de", "cs", "da", "es", "fr", "it", "ja", "ko", "nl", "pl", "sv", "zh"]
        mpr = MailParserReply(languages=languages)
        found["mail-parser-reply"] = lambda text, _subject: mpr.parse_reply(text) or ""
    try:
        from email_reply_parser import EmailReplyParser  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        found["email-reply-parser"] = lambda text, _subject: EmailReplyParser.parse_reply(text) or ""
    try:
        from talon import quotations  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        found["talon (quotations)"] = lambda text, _subject: quotations.extract_from_plain(text)
    return found


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").split("\n") if line.strip()]


def score(parser: Parser, cases: list[Case]) -> dict[str, float]:
    exact = lost = leaked = crashed = 0
    times = []
    for case in cases:
        started = time.perf_counter()
        try:
            got = parser(case.text, case.subject).strip("\n")
        except Exception:  # noqa: BLE001 - a parser that raises scores a crash, the bench goes on
            crashed += 1
            continue
        times.append(time.perf_counter() - started)
        want, have = _lines(case.expected), _lines(got)
        exact += _lines(got) == want
        lost += any(line not in have for line in want)
        leaked += any(line not in want for line in have)
    return {
        "exact": exact,
        "lost": lost,
        "leaked": leaked,
        "crashed": crashed,
        "median_ms": statistics.median(times) * 1000 if times else float("nan"),
    }


def one_megabyte() -> str:
    reply = "Thanks, that fixed the invoice.\nOne more question about the export.\n"
    quote = "On Mon, 3 Jun 2024 at 10:15, Support <support@example.com> wrote:\n> Please try again.\n>\n"
    text = ""
    while len(text) < 1_000_000:
        text += reply + quote
    return text


def timed_megabyte(parser: Parser) -> float:
    text = one_megabyte()
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        try:
            parser(text, "")
        except Exception:  # noqa: BLE001 - measured as not finishing
            return float("nan")
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1000


def main() -> None:
    cases = corpus()
    languages = len({case.language for case in cases})
    rows = []
    for name, parser in parsers().items():
        found = score(parser, cases)
        figures = (
            f"exact {found['exact']:>4.0f}/{len(cases)}  lost text {found['lost']:>4.0f}"
            f"  kept history {found['leaked']:>4.0f}  raised {found['crashed']:>2.0f}"
            f"  {found['median_ms']:6.3f} ms/case  1 MB: {timed_megabyte(parser):8.1f} ms"
        )
        rows.append((name, figures))
    print(table(f"Reply parsers on our corpus: {len(cases)} cases, {languages} languages", rows))
    print(f"\n(corpus: {Path(CORPUS).relative_to(ROOT)})")


if __name__ == "__main__":
    main()
