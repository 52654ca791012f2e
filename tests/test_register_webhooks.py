"""After a deploy, one command points Telegram and Viber at the stage's webhooks."""

from __future__ import annotations

from tools.register_webhooks import register


def test_registers_both_messengers_with_their_secrets(providers):
    outcome = register("https://api.example/api/")

    assert outcome == {"telegram": "registered", "viber": "registered"}
    [telegram] = providers.messages("telegram")
    assert telegram["payload"]["url"] == "https://api.example/api/webhooks/telegram"
    assert telegram["payload"]["secret_token"] == "local-telegram-secret-token"
    [viber] = providers.messages("viber")
    assert viber["payload"]["url"] == "https://api.example/api/webhooks/viber"
    assert viber["headers"]["X-Viber-Auth-Token"] == "local-viber-auth-token"


def test_a_refusal_is_reported_not_hidden(providers):
    providers.fail("setWebhook", status=401, times=1)

    outcome = register("https://api.example/api")

    assert outcome["telegram"].startswith("failed") and outcome["viber"] == "registered"
