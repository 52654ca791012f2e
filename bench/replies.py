"""Reply stripping against 1 MB replies of the shapes that cost the most: ms per `strip_quoted`
(target < 50 ms on this 2-core machine), and `parse_email` of a 1 MB mail around it.

A second table is for text that is no reply: hundreds of thousands of short lines that each look
like the start of a marker. The engine is linear, but it examines every such line in Python
(about 2-4 microseconds each), so these are the slowest shapes per MB; they are measured at the
400,000 characters intake strips at most, against the hostile-mail budget (10 s a mail).

    python -m bench.replies [--runs 5] [--mb 1]

Each figure is the median of --runs runs in this process, after one warm-up run that also
reads the pattern files (their one-off cost is printed on its own line). "kept" is how many
characters the customer's text came to, a check that each shape did what its name says.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from bench.common import table

TARGET_MS = 50.0
CUSTOMER = "Hello, the export still stops at 10% with error 42; we tried it twice today.\n"
QUOTED = "> Could you try the export again and tell us what you see on the screen?\n"
ANSWER = "Thanks, that fixed the invoice.\nOne more question about the export.\n"
ATTRIBUTION = "On Mon, 3 Jun 2024 at 10:15, Promptly Support <support@promptly.example> wrote:\n"


def _fill(unit: str, size: int) -> str:
    return unit * (size // len(unit))


def shapes(size: int) -> dict[str, str]:
    """The 1 MB replies: each name says what the text is made of."""
    alternations = 20_000
    pair = "Yes, that is right.\n" + "> Is that right?\n"
    return {
        "all customer text": _fill(CUSTOMER, size),
        "all quoted (attribution + quote)": "Thanks!\n\n" + ATTRIBUTION + _fill(QUOTED, size),
        f"{alternations:,} inline reply/quote pairs": (pair * alternations + _fill(CUSTOMER, size))[:size],
        "one huge line": "x" * size,
        "100,000 '>' on one line": "Hi\n" + ">" * 100_000 + "\n" + _fill(CUSTOMER, size - 100_003),
        "20,000 spaces + 'x' (x50)": ("Hi\n" + (" " * 20_000 + "x\n") * 50)[:size],
        "Outlook header lines (x)": _fill("From: a <a@x.com>\nSent: Monday\n> q\n", size),
        "colon-ended lines": _fill("Steps to reproduce on 03.06.2024 at 10:15:\n", size),
        "attributed quotes between answers": _fill(ANSWER + ATTRIBUTION + QUOTED + ">\n", size),
    }


INTAKE_CHARS = 400_000  # channels/mime_limits.py: the text intake keeps of a mail
HOSTILE_BUDGET_MS = 10_000.0


def marker_like(size: int) -> dict[str, str]:
    """Text of `size` characters made of one short line repeated: each a candidate marker."""
    units = {
        "'x:' lines": "x:\n",
        "'Od:' lines (a header label, no value)": "Od:\n",
        "'From: a' lines": "From: a\n",
        "'On x:' lines": "On x:\n",
        "'-' lines": "-\n",
        "'> a' / 'b' pairs": "> a\nb\n",
    }
    return {name: (unit * (size // len(unit) + 1))[:size] for name, unit in units.items()}


def _median_ms(run: Callable[[], object], runs: int) -> tuple[float, float]:
    """(wall ms, CPU ms), each the median of `runs`: on a machine others share, CPU time is the
    steadier figure of the two."""
    run()  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def _mail(text: str) -> bytes:
    head = (
        "From: Customer <customer@example.com>\r\nTo: support@promptly.example\r\n"
        "Subject: Re: Export\r\nMessage-ID: <bench@example.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return (head + text.replace("\n", "\r\n")).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mb", type=float, default=1.0)
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)

    start = time.perf_counter()
    from chalicelib.channels import reply_text

    reply_text.strip_quoted("x")  # reads and compiles the pattern files
    load_ms = (time.perf_counter() - start) * 1000
    from chalicelib.channels.email import parse_email

    rows = []
    for name, text in shapes(size).items():
        ms, cpu = _median_ms(partial(reply_text.strip_quoted, text, "Re: Export"), args.runs)
        kept = len(reply_text.strip_quoted(text, "Re: Export"))
        verdict = "ok" if ms < TARGET_MS else "OVER"
        rows.append((f"strip_quoted: {name}", f"{ms:6.1f} ms (CPU {cpu:5.1f})  {verdict:4}  kept {kept:,} chars"))
    received = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    for name in ("all customer text", f"{20_000:,} inline reply/quote pairs"):
        raw = _mail(shapes(size)[name])
        ms, cpu = _median_ms(partial(parse_email, raw, received_at=received, fallback_id="b"), args.runs)
        rows.append((f"parse_email, {len(raw) / 1e6:.1f} MB mail: {name}", f"{ms:6.1f} ms (CPU {cpu:5.1f})"))
    rows.append(("pattern files read + compiled (once per process)", f"{load_ms:6.1f} ms"))
    print(table(f"Reply stripping, {args.mb:g} MB, median of {args.runs} (target < {TARGET_MS:g} ms)", rows))
    print()
    hostile = []
    for name, text in marker_like(INTAKE_CHARS).items():
        ms, cpu = _median_ms(partial(reply_text.strip_quoted, text), args.runs)
        verdict = "ok" if ms < HOSTILE_BUDGET_MS else "OVER"
        lines = text.count("\n")
        hostile.append((f"strip_quoted: {name}", f"{ms:7.1f} ms (CPU {cpu:6.1f})  {verdict:4}  {lines:,} lines"))
    title = f"No reply: {INTAKE_CHARS:,} characters of marker-like lines (budget {HOSTILE_BUDGET_MS / 1000:g} s a mail)"
    print(table(title, hostile))


if __name__ == "__main__":
    main()
