"""Move the running local desk's clock, to watch what time does without waiting for it.

    python -m tools.clock                        what the desk's clock says
    python -m tools.clock +3h                    3 hours ahead (also +90m, +2d)
    python -m tools.clock +3 business hours      3 hours of the desk's business time: nights,
                                                 weekends and holidays are skipped
    python -m tools.clock 08:05                  to the next time the desk's clock shows 08:05
    python -m tools.clock reset                  back to this machine's time

The desk runs its schedules at once at the new time — the SLA watch, the morning digest, the
quiet close — so what they send is in the local outbox within seconds. Only the desk's time
moves: signed webhooks are still checked against this machine's clock.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from tools import local_desk

SHORT = re.compile(r"^\+(\d+)([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}$")


def change(words: list[str]) -> dict[str, Any] | None:
    """What to ask `/dev/clock` for; None: only show the time."""
    text = " ".join(words).strip()
    if not text:
        return None
    if text == "reset":
        return {"reset": True}
    if TIME_OF_DAY.match(text):
        return {"to": text.zfill(5)}
    short = SHORT.match(text)
    if short:
        return {"by": f"{short[1]} {UNITS[short[2]]}"}
    if text.startswith("+"):
        return {"by": text[1:].strip()}
    raise SystemExit(f"{text!r}: say +3h, +90m, +2d, +3 business hours, 08:05 or reset")


def call(url: str, wanted: dict[str, Any] | None) -> dict[str, Any]:
    """GET the clock, or POST the change; a refusal stops the tool with the desk's sentence."""
    request = (
        urllib.request.Request(url)
        if wanted is None
        else urllib.request.Request(
            url, data=json.dumps(wanted).encode(), method="POST", headers={"Content-Type": "application/json"}
        )
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # the schedules run before it answers
            return dict(json.load(response))
    except urllib.error.HTTPError as error:
        raise SystemExit(
            f"the desk refused: {json.loads(error.read() or b'{}').get('Message', error.reason)}"
        ) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("move", nargs="*", help="+3h, +90m, +2d, +3 business hours, 08:05 or reset")
    args = parser.parse_args()
    wanted = change(args.move)
    ports = local_desk.running()
    answer = call(f"{ports.api_url}/dev/clock", wanted)
    ahead = timedelta(seconds=answer["ahead_seconds"])
    print(f"the desk's clock: {answer['desk_time']}" + (f" ({ahead} ahead of this machine)" if ahead else ""))
    if answer.get("ran"):
        print(
            f"ran at once: {', '.join(answer['ran'])}; what they sent is in {ports.api_url}/dev/mail", file=sys.stderr
        )


if __name__ == "__main__":
    main()
