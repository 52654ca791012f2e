"""SES's receipt verdicts → how far the From address is proven (`ses.authentication`)."""

from __future__ import annotations

import pytest

from chalicelib.channels.ses import aligned, authentication
from tools.local import local_verdicts


def notification(
    *, spf: str = "GRAY", dkim: str = "GRAY", dmarc: str = "GRAY", source: str = "", signers: tuple[str, ...] = ()
) -> dict:
    headers = [{"name": "DKIM-Signature", "value": f"v=1; a=rsa-sha256; d={domain}; s=s1; b=xyz"} for domain in signers]
    return {
        "receipt": {"spfVerdict": {"status": spf}, "dkimVerdict": {"status": dkim}, "dmarcVerdict": {"status": dmarc}},
        "mail": {"source": source, "headers": headers},
    }


@pytest.mark.parametrize(
    ("checks", "trust"),
    [
        ({"dmarc": "PASS"}, "authenticated"),
        (
            {"dmarc": "FAIL", "spf": "PASS", "dkim": "PASS", "source": "b@shop.example", "signers": ("shop.example",)},
            "unauthenticated",
        ),  # the domain's own policy says no
        ({"spf": "PASS", "source": "bounce@mail.shop.example"}, "authenticated"),  # no DMARC policy: aligned SPF
        ({"spf": "PASS", "source": "bounce@esp.example"}, "unauthenticated"),  # SPF passed for someone else
        ({"dkim": "PASS", "signers": ("shop.example",)}, "authenticated"),
        ({"dkim": "PASS", "signers": ("shop.example", "esp.example")}, "unauthenticated"),  # which one passed?
        ({"dkim": "PASS"}, "unauthenticated"),  # a pass with no signature we can see
        ({}, "unauthenticated"),
    ],
)
def test_verdicts_make_a_trust_level(checks, trust):
    assert authentication(notification(**checks), "ann@shop.example")[0] == trust


def test_the_agent_reads_what_was_checked():
    assert authentication(notification(spf="PASS", source="x@shop.example"), "ann@shop.example") == (
        "authenticated",
        "spf=pass dkim=gray dmarc=gray (spf aligned)",
    )
    assert authentication({}, "ann@shop.example") == ("unauthenticated", "spf=none dkim=none dmarc=none")


def test_no_sender_is_never_authenticated():
    assert authentication(notification(dmarc="PASS"), None)[0] == "unauthenticated"


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        ("shop.example", "shop.example", True),
        ("mail.shop.example", "shop.example", True),
        ("shop.example", "eu.shop.example", True),
        ("a.shop.example", "b.shop.example", False),
        ("evilshop.example", "shop.example", False),
        ("", "shop.example", False),
    ],
)
def test_alignment(one, other, expected):
    assert aligned(one, other) is expected


def test_the_local_inbox_passes_mail_unless_the_file_asks_otherwise():
    assert local_verdicts(b"From: a@b.example\n\nhi")["dmarcVerdict"] == {"status": "PASS"}
    forged = local_verdicts(
        b"From: a@b.example\nX-Local-SES-Verdicts: dmarc=fail spf=FAIL\n\nX-Local-SES-Verdicts: dkim=fail"
    )
    assert {name: verdict["status"] for name, verdict in forged.items()} == {
        "spfVerdict": "FAIL",
        "dkimVerdict": "PASS",
        "dmarcVerdict": "FAIL",
    }
