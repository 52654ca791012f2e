"""A wrong desk file stops the desk at start, naming the field that is wrong."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

import pytest

from chalicelib.config import CONFIG_PATH, ConfigError, Span, load
from tests.conftest import ROOT, edited_desk_file


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


# --- the frozen form a package carries (tools/build.py), read back without pydantic -------------
@pytest.fixture
def frozen_form(tmp_path, monkeypatch):
    """Freeze a desk file as the build does, and have `thawed` read that frozen form."""
    from chalicelib import config

    def freeze(path):
        frozen = tmp_path / "desk.json"
        frozen.write_text(config.freeze(path, 2025), encoding="utf-8")
        monkeypatch.setattr(config, "FROZEN_PATH", frozen)
        config._frozen.cache_clear()
        config.public_holidays.cache_clear()
        return frozen

    yield freeze
    config._frozen.cache_clear()
    config.public_holidays.cache_clear()


@pytest.mark.parametrize("desk_file", ["desk.toml", "desk-24x7.toml", "desk-warsaw.toml", "desk-wallclock.toml"])
def test_the_frozen_form_reads_back_as_what_validating_the_desk_file_gives(frozen_form, desk_file):
    from chalicelib.config import Settings, thawed

    path = CONFIG_PATH if desk_file == "desk.toml" else ROOT / "tests" / "fixtures" / desk_file
    frozen_form(path)
    desk = thawed(path)

    assert isinstance(desk, Settings) and asdict(desk) == asdict(load(path))  # field by field, types too


def test_a_desk_file_changed_after_freezing_is_validated_not_thawed(frozen_form, tmp_path):
    from chalicelib.config import thawed

    frozen_form(CONFIG_PATH)
    edited = edited_desk_file(tmp_path, 'lifetime = "90 days"', 'lifetime = "30 days"')

    assert thawed(edited) is None  # settings() then loads and validates it


def test_the_frozen_form_lists_the_holidays_and_asks_holidays_past_its_years(frozen_form):
    """Poland's Independence Day (11 November) closes the Warsaw desk in the years the build
    listed, and after them too (then from `holidays`, imported on that first look)."""
    from chalicelib.config import thawed

    path = ROOT / "tests" / "fixtures" / "desk-warsaw.toml"
    frozen = json.loads(frozen_form(path).read_text())
    listed = frozen["public_holidays"]["PL/"]
    assert listed["years"] == [2025, 2034] and "2026-11-11" in listed["dates"]
    desk = thawed(path)
    assert desk is not None
    [calendar] = [c for c in desk.calendars.values() if c.holidays_country == "PL"]
    closed = calendar.build().closed
    assert date(2026, 11, 11) in closed and date(2026, 11, 12) not in closed
    assert date(2040, 11, 11) in closed  # past the listed years


def test_the_build_refuses_an_invalid_desk_file_with_its_config_error(tmp_path):
    from tools.build import freeze_desk

    wrong = edited_desk_file(tmp_path, 'sender = "support@promptly.example"', 'sender = "support"')
    with pytest.raises(ConfigError, match="desk.sender: String should match pattern"):
        freeze_desk(wrong)
    assert not (tmp_path / "desk.json").exists()


def test_settings_show_themselves_as_dataclasses_do():
    """config.Shown writes the repr each class no longer compiles at import: the same text."""
    span = Span.parse("4 business hours")
    assert repr(span) == "Span(length=datetime.timedelta(seconds=14400), business=True)"
    shown = repr(load(CONFIG_PATH))
    assert shown.startswith("Settings(desk=Desk(name='Promptly Support', ")
    assert "throttles=Throttles(webhooks=Throttle(rate=" in shown
