"""Post a signed contact-form submission to a running desk (the local one by default), the way
the website's server does it (never its browser: the secret would be public):

    X-Promptly-Timestamp: <unix seconds now>
    X-Promptly-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>", keyed with form_secret>

    python -m tools.send_form --email you@example.com --message "Hello" [--locale uk] [--timezone Europe/Kyiv]

Prints the ticket's reference (so `TICKET=$(python -m tools.send_form ...)` works) and, on
stderr, what became of it; a refusal prints the desk's reason and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib.channels.form import SIGNATURE_HEADER, TIMESTAMP_HEADER
from chalicelib.signing import sign_timestamped
from tools import local_desk
from tools.local_desk import stage_environment


def signed_request(url: str, payload: dict[str, Any], secret: str) -> urllib.request.Request:
    """A POST of `payload` as JSON, signed at this moment (the desk refuses it 5 minutes later)."""
    body = json.dumps(payload).encode()
    timestamp, signature = sign_timestamped(secret, body, datetime.now(UTC))
    return urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="the form webhook (default: the running local desk's)")
    parser.add_argument("--email", required=True)
    parser.add_argument("--message", required=True)
    parser.add_argument("--name", default="")
    parser.add_argument("--subject", default="")
    parser.add_argument("--locale")
    parser.add_argument("--timezone")
    parser.add_argument("--secret", default=stage_environment("local")["PROMPTLY_SECRET_FORM_SECRET"])
    args = parser.parse_args()

    url = args.url or f"{local_desk.running().api_url}/webhooks/form"
    payload = {
        "submission_id": uuid.uuid4().hex,
        "email": args.email,
        "message": args.message,
        "name": args.name,
        "subject": args.subject,
    }
    payload.update({k: v for k, v in (("locale", args.locale), ("timezone", args.timezone)) if v})
    try:
        with urllib.request.urlopen(signed_request(url, payload, args.secret), timeout=10) as response:
            receipt = json.load(response)
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{error.code} {error.read().decode()}") from None
    print(receipt["ticket"])
    print(
        f"ticket {receipt['ticket']} {'opened' if receipt['created'] else 'continued'}; "
        f"its acknowledgement goes to {args.email} (the local outbox: /dev/mail)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
