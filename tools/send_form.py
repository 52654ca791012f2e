"""Post a signed contact-form submission to a running desk (the local one by default).

    python -m tools.send_form --email you@example.com --message "Hello" [--locale uk] [--timezone Europe/Kyiv]
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid

from tools.local import stage_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000/webhooks/form")
    parser.add_argument("--email", required=True)
    parser.add_argument("--message", required=True)
    parser.add_argument("--name", default="")
    parser.add_argument("--subject", default="")
    parser.add_argument("--locale")
    parser.add_argument("--timezone")
    parser.add_argument("--secret", default=stage_environment("local")["PROMPTLY_SECRET_FORM_SECRET"])
    args = parser.parse_args()

    payload = {"submission_id": uuid.uuid4().hex, "email": args.email, "message": args.message,
               "name": args.name, "subject": args.subject}
    payload.update({k: v for k, v in (("locale", args.locale), ("timezone", args.timezone)) if v})
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(args.secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(args.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Promptly-Signature": signature})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        print(error.code, error.read().decode())


if __name__ == "__main__":
    main()
