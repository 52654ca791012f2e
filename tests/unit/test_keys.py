"""Every kind of key-table row → the exact string it is stored under.

Production tables hold these strings: a change here is a data migration, not a refactoring.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib import keys

HOUR = datetime(2026, 11, 23, 9, tzinfo=UTC)

STORED = [
    (keys.delivery("telegram", "7001"), "delivery#telegram#7001"),
    (keys.contact("email", "ann@example.com"), "contact#email#ann@example.com"),
    (keys.contact("phone", "+380501234567"), "contact#phone#+380501234567"),
    (keys.contact("viber", "vb-1"), "contact#viber#vb-1"),
    (keys.thread("chat", "s-9"), "thread#chat#s-9"),
    (keys.thread_email("<a1@mail.example>"), "thread#email#<a1@mail.example>"),
    (
        keys.thread_email("0102abc@eu-central-1.amazonses.com"),
        "thread#email#0102abc@eu-central-1.amazonses.com",
    ),
    (keys.sent("ack-PR-7K3QX9M2"), "sent#ack-PR-7K3QX9M2"),
    (keys.claim("digest-2026-11-23-A-1"), "claim#digest-2026-11-23-A-1"),
    (keys.ack_guard("email", "ann@example.com"), "ackguard#email#ann@example.com"),
    (keys.nps_guard("Ann@Example.com", "C-1"), "npsguard#email#ann@example.com"),
    (keys.nps_guard(None, "C-1"), "npsguard#C-1"),
    (keys.nps_guard("", "C-1"), "npsguard#C-1"),
    (keys.ack_rate_job("ack-PR-1"), "ackrate#job#ack-PR-1"),
    (keys.ack_rate_domain("example.com", HOUR), "ackrate#domain#example.com#2026-11-23T09"),
    (keys.ack_rate_all(HOUR), "ackrate#all#2026-11-23T09"),
    (keys.suppressed(" Ann@Example.COM "), "suppress#email#ann@example.com"),
    (keys.digest_queued("2026-11-23"), "digest#2026-11-23"),
    (keys.USUAL_SUMMARY, "usual#summary"),
    (keys.STAFF_LEADERS, "staff#leaders"),
    (keys.STAFF_ADMINS, "staff#admins"),
    (keys.leads("billing"), "leads#billing"),
    (keys.roster("general", "2026-W48"), "roster#general#2026-W48"),
    (keys.token("3fa85f64a1b2"), "token#3fa85f64a1b2"),
    (keys.tokens_held("A-1"), "tokens#A-1"),
    (keys.agent_email(" Olena@Promptly.example "), "agentemail#olena@promptly.example"),
    (keys.sign_in_code("Olena@Promptly.example"), "signincode#olena@promptly.example"),
    (
        keys.sign_in_rate_address("Olena@Promptly.example", HOUR),
        "signinrate#email#olena@promptly.example#2026-11-23T09",
    ),
    (keys.sign_in_rate_source("203.0.113.7", HOUR), "signinrate#source#203.0.113.7#2026-11-23T09"),
    (keys.session("ab12"), "session#ab12"),
    (keys.presence("PR-7K3QX9M2"), "presence#PR-7K3QX9M2"),
    (
        keys.console_submit("A-1", "0f8e2b1c-3d4a-4b5c-9d6e-7f8091a2b3c4"),
        "submit#A-1#0f8e2b1c-3d4a-4b5c-9d6e-7f8091a2b3c4",
    ),
]


@pytest.mark.parametrize(("built", "stored"), STORED, ids=[stored for _, stored in STORED])
def test_each_kind_is_stored_under_its_exact_key(built: str, stored: str) -> None:
    assert built == stored


def test_a_token_key_starts_with_the_prefix_the_reindex_scans_for() -> None:
    assert keys.token("x").startswith(keys.TOKEN_PREFIX)
