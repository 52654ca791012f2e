"""The local desk as a person feels it: how soon an acknowledgement shows in the local outbox, and
what a look at the outbox costs as mail piles up (target: flat).

    python -m bench.local_latency [--forms 50] [--mails 1,50,500] [--looks 3]

Starts a desk as `make run` does (tools/local.py, on free ports, in a folder of its own), then:
posts `--forms` signed contact forms one after another, each from its own address, and times
each until its acknowledgement is listed by `GET /dev/outbox` (p50/p95); and times
`GET /dev/outbox` when the desk has sent each of `--mails` mails — the first look after the
mail arrived (it may read the new mail) and the median of `--looks` more. Mail beyond the forms'
acknowledgements is sent cheaply, from this process through the desk's own mail path
(`send_from_desk` against the desk's embedded AWS).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tools import local_desk
from tools.local_browser import LocalDesk
from tools.local_browser import local_desk as start_desk
from tools.send_form import signed_request

POLL_SECONDS = 0.02

FILLER_HTML = "<p>" + "Thank you for writing to us; we answer within four business hours. " * 40 + "</p>"


FAILED_LOOKS: list[str] = []  # looks the desk answered with an error (a slow outbox times out inside)


def outbox(desk: LocalDesk) -> list[dict[str, Any]]:
    """The mail `GET /dev/outbox` lists; an error answer is counted and retried."""
    while True:
        try:
            with urllib.request.urlopen(f"{desk.base}/dev/outbox", timeout=600) as response:
                return list(json.load(response)["messages"])
        except urllib.error.HTTPError as error:
            FAILED_LOOKS.append(f"{error.code}")


def look(desk: LocalDesk) -> tuple[float, int]:
    """One `GET /dev/outbox`: (seconds, mails listed)."""
    started = time.perf_counter()
    count = len(outbox(desk))
    return time.perf_counter() - started, count


def post_form(desk: LocalDesk, address: str, secret: str) -> None:
    payload = {"submission_id": address, "email": address, "message": "Where is my order?", "name": "", "subject": ""}
    with urllib.request.urlopen(signed_request(f"{desk.base}/webhooks/form", payload, secret), timeout=30):
        pass


def acknowledgement_seconds(desk: LocalDesk, forms: int, secret: str) -> list[float]:
    seen = []
    for n in range(forms):
        address = f"visitor{n}@example.com"
        started = time.perf_counter()
        post_form(desk, address, secret)
        deadline = started + 120
        while not any(address in mail["to"] for mail in outbox(desk)):
            if time.perf_counter() > deadline:
                raise SystemExit(f"no acknowledgement to {address} within 120 s")
            time.sleep(POLL_SECONDS)
        seen.append(time.perf_counter() - started)
    return seen


def send_until(total: int, desk: LocalDesk) -> None:
    """Mail from the desk (its own mail path, over its embedded AWS) until it has sent `total`."""
    from chalicelib.mail import send_from_desk
    from chalicelib.render import Rendered

    _, count = look(desk)
    for n in range(count, total):
        address = f"reader{n}@example.com"
        rendered = Rendered(subject=f"News {n}", text=f"Hello reader {n}", html=FILLER_HTML)
        send_from_desk(f"bench-{n}", rendered, to=address, language="en")


def outbox_looks(desk: LocalDesk, looks: int) -> tuple[int, float, float]:
    """(mails listed, first look's seconds, median of `looks` more)."""
    first, count = look(desk)
    return count, first, statistics.median(look(desk)[0] for _ in range(looks))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forms", type=int, default=50)
    parser.add_argument("--mails", default="1,50,500", help="outbox sizes to time GET /dev/outbox at")
    parser.add_argument("--looks", type=int, default=3)
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.mails.split(","))
    secret = local_desk.stage_environment("local")["PROMPTLY_SECRET_FORM_SECRET"]

    with tempfile.TemporaryDirectory() as folder, start_desk(Path(folder)) as desk:
        state = json.loads((desk.local / "desk.json").read_text())
        local_desk.follow(local_desk.Ports(state["api"], state["aws"], state["providers"]))
        rows: list[tuple[str, str]] = []
        sizes_left = list(sizes)
        if sizes_left and sizes_left[0] <= 1:
            send_until(sizes_left.pop(0), desk)
            rows.append(_outbox_row(outbox_looks(desk, args.looks)))
        seen = acknowledgement_seconds(desk, args.forms, secret)
        for size in sizes_left:
            send_until(size, desk)
            rows.append(_outbox_row(outbox_looks(desk, args.looks)))
    ack = [
        (f"acknowledgement seen, {args.forms} forms", ""),
        ("  p50", f"{percentile(seen, 0.5) * 1000:8.0f} ms"),
        ("  p95", f"{percentile(seen, 0.95) * 1000:8.0f} ms"),
        ("  max", f"{max(seen) * 1000:8.0f} ms"),
        ("GET /dev/outbox answered with an error", f"{len(FAILED_LOOKS)} times (retried)"),
        ("GET /dev/outbox at N mails", "first look / median of next looks"),
    ]
    print(_table("Local desk latency (bench.local_latency)", ack + rows))


def _outbox_row(measured: tuple[int, float, float]) -> tuple[str, str]:
    count, first, median = measured
    return f"  {count} mails", f"{first * 1000:8.0f} ms / {median * 1000:8.0f} ms"


def _table(title: str, rows: list[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in rows)
    return "\n".join([title, "-" * len(title)] + [f"{name:<{width}}  {value}" for name, value in rows])


if __name__ == "__main__":
    main()
