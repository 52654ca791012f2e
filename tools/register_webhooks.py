"""Tell Telegram and Viber where this stage's webhooks are (run after each new API URL).

    PROMPTLY_STAGE=prod python -m tools.register_webhooks --url https://abc.execute-api.eu-central-1.amazonaws.com/api

Tokens come from SSM Parameter Store (/promptly/<stage>/telegram_bot_token,
telegram_secret_token, viber_auth_token), read by the same code the desk uses. Twilio's and
the chat widget's webhook URLs are set in their own consoles; this prints them.
"""

from __future__ import annotations

import argparse

from chalicelib.channels import telegram, viber
from chalicelib.providers import ProviderError


def register(base_url: str) -> dict[str, str]:
    """Register each messenger's webhook; returns channel → outcome."""
    base = base_url.rstrip("/")
    outcome: dict[str, str] = {}
    for name, adapter in (("telegram", telegram), ("viber", viber)):
        try:
            adapter.set_webhook(f"{base}/webhooks/{name}")
            outcome[name] = "registered"
        except ProviderError as error:
            outcome[name] = f"failed: {error}"
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the stage's API base URL (printed by the deploy)")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    for name, result in register(base).items():
        print(f"{name:<9} {base}/webhooks/{name}  {result}")
    print(
        f"twilio    {base}/webhooks/twilio  set it as the 'A message comes in' webhook (HTTP POST), "
        "and as its Fallback URL: Twilio retries a failed webhook only there"
    )
    # the website's server signs (never its pages): README, "The website's form and chat: how to sign"
    print(f"form      {base}/webhooks/form    give it to the website's server with form_secret")
    print(
        f"chat      {base}/webhooks/chat    give it to the website's server with chat_secret "
        "(and chat_reply_secret, to check our replies)"
    )


if __name__ == "__main__":
    main()
