"""A wrong desk file stops the desk at start, naming the field that is wrong."""

from __future__ import annotations

import pytest

from chalicelib.config import CONFIG_PATH, ConfigError, Span, load
from tests.conftest import edited_desk_file


def test_the_shipped_desk_file_is_valid():
    desk = load(CONFIG_PATH)
    assert desk.desk.default_language == "en"
    assert desk.policy_for("telegram", "normal").first_response == "10 business minutes"
    assert desk.policy_for("email", "normal").first_response == "12 business hours"


@pytest.mark.parametrize(
    "old, new, named",
    [
        ('timezone = "Europe/Kyiv"                   #', 'timezone = "Europe/Kiev_City"  #', "desk.timezone"),
        ('mon = ["09:00-18:00"]', 'mon = ["18:00-09:00"]', "hours.mon"),
        ('first_response = "4 business hours"', 'first_response = "4 business days"', "first_response"),
        ('first_response = "1 business minute"', 'first_response = "soon"', "first_response"),
        ('queue = "billing"', 'queue = "finance"', "routing.rules[0].queue"),
        ('holidays_country = "UA"', 'holidays_country = "XX"', "holidays_country"),
        ('sender = "support@promptly.example"', 'sender = "support"', "desk.sender"),
        ('ack_cooldown = "5 minutes"', 'ack_cooldwn = "5 minutes"', "ack_cooldwn"),
    ],
)
def test_a_wrong_field_is_named(tmp_path, old, new, named):
    with pytest.raises(ConfigError) as error:
        load(edited_desk_file(tmp_path, old, new))
    assert named in str(error.value)


def test_last_sla_policy_must_catch_everything(tmp_path):
    path = edited_desk_file(
        tmp_path,
        '[[sla]]\nfirst_response = "12 business hours"',
        '[[sla]]\nchannels = ["email"]\nfirst_response = "12 business hours"',
    )
    with pytest.raises(ConfigError, match="last policy must match every channel"):
        load(path)


def test_unreadable_toml_is_reported_with_the_file(tmp_path):
    path = tmp_path / "desk.toml"
    path.write_text("[desk\nname=", encoding="utf-8")
    with pytest.raises(ConfigError, match="desk.toml"):
        load(path)


@pytest.mark.parametrize(
    "text, minutes, business",
    [
        ("4 business hours", 240, True),
        ("30 minutes", 30, False),
        ("1 business minute", 1, True),
        ("2 days", 2880, False),
    ],
)
def test_durations_read_like_admins_write_them(text, minutes, business):
    span = Span.parse(text)
    assert span.length.total_seconds() == minutes * 60 and span.business is business


def test_tokens_live_as_long_as_the_desk_says_in_calendar_time(tmp_path):
    assert load(CONFIG_PATH).tokens.lifetime == "90 days"
    assert (
        load(edited_desk_file(tmp_path, 'lifetime = "90 days"', 'lifetime = "30 days"')).tokens.lifetime_span.days == 30
    )
    with pytest.raises(ConfigError, match="tokens.lifetime.*calendar time"):
        load(edited_desk_file(tmp_path, 'lifetime = "90 days"', 'lifetime = "90 business hours"'))
