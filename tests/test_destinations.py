"""The desk POSTs on its own only to https hosts desk.toml allows: Slack's webhooks and the
website's chat backend. Anything else is refused when the file loads, at deploy, and at send
time — for good, without retries — and the other messages still go."""

from __future__ import annotations

from datetime import datetime

import pytest

from chalicelib import providers as http
from chalicelib.channels import chat
from chalicelib.channels.base import Outgoing
from chalicelib.config import CONFIG_PATH, ConfigError, load
from chalicelib.destinations import NotAllowed, check, for_sending
from tests.conftest import edited_desk_file
from tests.harness import KYIV

SLACK = ("hooks.slack.com",)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T0/B0/x",
        "https://HOOKS.slack.com/services/x",
        "https://hooks.slack.com:443/services/x",
    ],
)
def test_an_https_url_on_an_allowed_host_is_accepted(url):
    assert check(url, SLACK, what="webhook") == url


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://hooks.slack.com/services/x", "must be an https:// URL"),
        ("https://hooks.slack.com.evil.example/services/x", "'hooks.slack.com.evil.example' is not an allowed host"),
        ("https://evil.example/?https://hooks.slack.com/", "'evil.example' is not an allowed host"),
        ("https://hooks.slack.com@evil.example/services/x", "must not carry a user name or password"),
        ("https://hooks.slack.com\\@evil.example/", "backslashes are not allowed"),
        ("https://hooks.slack.com:8443/services/x", "standard https port"),
        ("https://169.254.169.254/latest/meta-data/", "'169.254.169.254' is not an allowed host"),
        ("http://127.0.0.1:8002/slack/x", "must be an https:// URL"),  # loopback only on the local stage
        ("hooks.slack.com/services/x", "must be an https:// URL"),
        ("https://[::1", "not a URL"),
    ],
)
def test_anything_else_is_refused_saying_why(url, why):
    with pytest.raises(NotAllowed, match=why.replace("?", r"\?").replace("(", r"\(")):
        check(url, SLACK, what="webhook")


def test_the_shipped_desk_file_allows_slack_and_names_a_chat_backend():
    destinations = load(CONFIG_PATH).destinations
    assert destinations.slack_hosts == SLACK and destinations.chat_reply_hosts


@pytest.mark.parametrize(
    "old, new, named",
    [
        (
            'team_email = "care-team@promptly.example"',
            'team_slack = "https://hooks.slack.com.evil.example/T/B/x"',
            "queues.general.team_slack: 'hooks.slack.com.evil.example' is not an allowed host",
        ),
        (
            'team_email = "care-team@promptly.example"',
            'team_slack = "http://hooks.slack.com/services/T/B/x"',
            "queues.general.team_slack: String should match pattern '^https://'",
        ),
        ('slack_hosts = ["hooks.slack.com"]', 'slack_hosts = ["https://hooks.slack.com/"]', "destinations.slack_hosts"),
        ('slack_hosts = ["hooks.slack.com"]', 'slack_hosts = ["*.slack.com"]', "destinations.slack_hosts"),
        (
            'chat_reply_hosts = ["www.promptly.example"]',
            'chat_reply_hosts = ["WWW.promptly.example:443"]',
            "destinations.chat_reply_hosts",
        ),
    ],
)
def test_a_destination_not_allowed_stops_the_desk_at_start(tmp_path, old, new, named):
    with pytest.raises(ConfigError) as error:
        load(edited_desk_file(tmp_path, old, new))

    assert named in str(error.value)


def test_a_queues_slack_webhook_on_an_allowed_host_loads(tmp_path):
    settings = load(
        edited_desk_file(
            tmp_path,
            'team_email = "care-team@promptly.example"',
            'team_slack = "https://hooks.slack.com/services/T0/B0/x"',
        )
    )

    assert settings.queues["general"].team_slack == "https://hooks.slack.com/services/T0/B0/x"


def test_loopback_is_allowed_on_the_local_stage_only(monkeypatch):
    fake = "http://127.0.0.1:8002/chat/replies"
    assert for_sending(fake, (), what="PROMPTLY_CHAT_REPLY_URL", provider="chat") == fake

    monkeypatch.setenv("PROMPTLY_STAGE", "dev")
    with pytest.raises(http.ProviderError, match="must be an https:// URL") as error:
        for_sending(fake, (), what="PROMPTLY_CHAT_REPLY_URL", provider="chat")
    assert error.value.retryable is False


def test_a_chat_reply_url_on_another_host_is_refused_for_good_and_nothing_is_sent(monkeypatch):
    monkeypatch.setenv("PROMPTLY_CHAT_REPLY_URL", "https://chat.evil.example/replies")
    posted: list[str] = []
    monkeypatch.setattr(http, "post_bytes", lambda url, body, headers: posted.append(url))

    with pytest.raises(http.ProviderError, match="'chat.evil.example' is not an allowed host") as error:
        chat.send(Outgoing(channel="chat", address="v-42", text="Hi", job_id="job-1", ticket_id="PR-1"))

    assert error.value.retryable is False and posted == []


def test_the_acknowledgement_skips_a_chat_backend_not_allowed_and_still_goes_by_email(desk, providers, monkeypatch):
    monkeypatch.setenv("PROMPTLY_CHAT_REPLY_URL", "https://chat.evil.example/replies")

    desk.post_chat({"message_id": "c-1", "visitor_id": "v-42", "text": "Hello", "email": "ann@example.com"})
    failures = desk.pump()

    assert failures == 0 and desk.dead_letters() == []  # refused once, for good: no retries
    assert providers.messages("chat") == []
    [mail] = desk.sent_mail()
    assert mail["to"] == "ann@example.com"


def test_an_sla_alert_skips_a_slack_webhook_not_allowed_and_the_email_still_goes(desk, team, providers, monkeypatch):
    """An agent record from before the API checked hosts (or edited in the table) points elsewhere."""
    from chalicelib.agents import staff

    staff.update_agent(team["olena"]["id"], {"slack_webhook": "https://hooks.slack.com.evil.example/T/B/x"})
    posted: list[str] = []
    real = http.post_bytes

    def recording(url: str, body: bytes, headers: dict[str, str]):
        posted.append(url)
        return real(url, body, headers)

    monkeypatch.setattr(http, "post_bytes", recording)
    desk.at(datetime(2026, 11, 23, 10, 0, tzinfo=KYIV))
    ticket_id = desk.post_form(
        {"submission_id": "s1", "email": "olga@example.com", "message": "I cannot log in"}
    ).json_body["ticket"]
    desk.api("POST", f"/api/tickets/{ticket_id}/take", team["olena"]["token"])
    desk.pump()

    desk.at(datetime(2026, 11, 23, 13, 0, tzinfo=KYIV))  # 75% of 4 business hours
    desk.client.lambda_.invoke(
        "sla_watch",
        desk.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        ),
    )
    failures = desk.pump()

    assert failures == 0 and desk.dead_letters() == []
    assert not any("evil.example" in url for url in posted)
    assert [m["to"] for m in desk.sent_mail() if m["subject"].startswith("[SLA")] == ["olena@promptly.example"]


def test_deploy_refuses_a_chat_reply_url_desk_toml_does_not_allow():
    from tools.deploy import DeployError, check_settings

    with pytest.raises(DeployError, match="--chat-reply-url: 'chat.evil.example' is not an allowed host"):
        check_settings({"chat_reply_url": "https://chat.evil.example/replies"})
    check_settings({"chat_reply_url": "https://www.promptly.example/chat/replies", "alarm_email": None})


def test_an_admin_cannot_aim_an_agents_alerts_at_another_host(desk, team):
    path = f"/api/agents/{team['olena']['id']}"

    refused = desk.api(
        "PATCH", path, team["admin"]["token"], {"slack_webhook": "https://hooks.slack.com.evil.example/x"}
    )
    allowed = desk.api(
        "PATCH", path, team["admin"]["token"], {"slack_webhook": "https://hooks.slack.com/services/T/B/x"}
    )

    assert (
        refused.status_code == 400
        and "'hooks.slack.com.evil.example' is not an allowed host" in refused.json_body["Message"]
    )
    assert allowed.status_code == 200 and allowed.json_body["alerts"]["slack"] is True
