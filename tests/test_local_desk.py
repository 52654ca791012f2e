"""The README's first hour, as a newcomer spends it: `make run` on ports that are not the
defaults, then every README example that talks to the local desk, pasted into one shell in the
order the README gives them. The README's code blocks are this test's input, so they cannot
drift from what works.

Everything runs in a scratch checkout — links to this repository's files, with a `local/` and a
`build/` of its own — so a desk someone runs in this checkout is never disturbed; `.venv` is
this interpreter's environment and MAKEFLAGS tells `make` it is installed already.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.harness import local_stage_env
from tools.local_desk import Ports
from tools.send_form import signed_request

ROOT = Path(__file__).resolve().parent.parent
LOCAL_EXAMPLE = ("$DESK", "--local", "local/", "STAGE=local")  # what marks a README block as one for the local desk
KEPT_OUT = {"local", "build", ".venv", ".git", ".pytest_cache", ".hypothesis"}

pytestmark = pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="needs the virtual environment make creates")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Checkout:
    """A scratch copy of the repository as a newcomer has it, and the environment of its shell."""

    folder: Path
    env: dict[str, str] = field(default_factory=dict)

    def shell(self, script: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", script],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Checkout:
    folder = tmp_path_factory.mktemp("checkout")
    for entry in ROOT.iterdir():
        if entry.name not in KEPT_OUT:
            (folder / entry.name).symlink_to(entry)
    (folder / ".venv").symlink_to(Path(sys.prefix))
    installed = folder / "installed"  # newer than requirements*.txt: make installs nothing
    installed.touch()
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "PROMPTLY_"))}
    env.update(PROMPTLY_LOCAL_DIR=str(folder / "local"), MAKEFLAGS=f"STAMP={installed}")
    return Checkout(folder, env)


@dataclass
class RunningDesk:
    ports: Ports
    banner: Path

    @property
    def base(self) -> str:
        return self.ports.api_url

    def outbox(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base}/dev/outbox", timeout=10) as response:
            return dict(json.load(response))

    def day(self) -> date:
        """The desk's date, by its (moved) clock."""
        with urllib.request.urlopen(f"{self.base}/dev/clock", timeout=10) as response:
            return date.fromisoformat(json.load(response)["desk_time"].split()[1])

    def files(self) -> list[str]:
        """The keys of the files the desk kept, in its embedded S3."""
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self.ports.aws}",
            region_name="eu-central-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        listed = s3.list_objects_v2(Bucket="promptly-local-files", Prefix="tickets/")
        return [item["Key"] for item in listed.get("Contents", [])]

    def mail_to(self, address: str) -> list[dict[str, Any]]:
        return [mail for mail in self.outbox()["messages"] if address in mail["to"]]

    def eventually(self, check: Callable[[], Any], seconds: float = 30) -> Any:
        """`check()` once it is truthy (the outbox sends within seconds), else fail with its last value."""
        deadline = time.monotonic() + seconds
        while not (found := check()) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert found, f"not within {seconds} s"
        return found


@pytest.fixture(scope="module")
def desk(checkout):
    """`make run` with all three servers on ports other than 8000-8002, as the README says."""
    ports = Ports(free_port(), free_port(), free_port())
    banner = checkout.folder / "desk.log"
    with banner.open("w") as log:
        process = subprocess.Popen(
            ["make", "run", f"PORT={ports.api}", f"AWS_PORT={ports.aws}", f"PROVIDERS_PORT={ports.providers}"],
            cwd=checkout.folder,
            env=checkout.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = RunningDesk(ports, banner)
    try:
        running.eventually(lambda: (checkout.folder / "local" / "desk.json").exists(), seconds=60)
        yield running
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # make and the desk it started
        process.wait(timeout=20)


def readme_examples() -> list[str]:
    """The README's shell blocks that talk to the local desk, in the README's order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return [
        block
        for block in re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
        if any(mark in block for mark in LOCAL_EXAMPLE)
    ]


def test_the_readme_shows_every_local_command_it_promises():
    """So that an example dropped from the README (or no longer marked as local) fails here
    instead of silently leaving the README test with less to run."""
    examples = "\n".join(readme_examples())
    for command in (
        "tools.local --url",
        "tools.send_form",
        "/webhooks/form",
        "local/inbox/",
        "/webhooks/telegram",
        "tools.local --providers-url",
        "/webhooks/viber",
        "/webhooks/twilio",
        "/webhooks/chat",
        "tools.clock +3 business hours",
        "tools.clock 08:05",
        "tools.create_admin --local",
        "/api/tickets",
        "tools.digest --local",
        "make redrive STAGE=local",
    ):
        assert command in examples, command
    assert "127.0.0.1:8000" not in examples  # every example follows the desk, whatever its ports


def test_every_readme_example_works_as_written_on_a_desk_on_other_ports(checkout, desk):
    script = "set -euo pipefail\n" + "\n".join(
        f"echo '### README example {number}'\n{block}" for number, block in enumerate(readme_examples(), 1)
    )

    pasted = checkout.shell(script)

    said = pasted.stdout + pasted.stderr
    assert pasted.returncode == 0, said
    assert '"Code"' not in pasted.stdout, said  # no example was refused (an error body is {"Code", "Message"})
    assert pasted.stdout.count('{"tickets":') == 2, said  # the agents' API: the work list and the finished ones
    # each example produced what it promises: an acknowledgement to each address, a reply in each messenger
    for address in ("olena@example.com", "you@example.com", "jane.doe@gmail.com", "ann@example.com"):
        desk.eventually(lambda address=address: [m for m in desk.mail_to(address) if "PR-" in m["subject"]])
    for provider, to in (
        ("telegram", "42"),
        ("viber", "viber-user-1"),
        ("twilio", "+380501234567"),
        ("chat", "visitor-1"),
    ):
        desk.eventually(
            lambda provider=provider, to=to: [
                m for m in desk.outbox()["messengers"] if (m["provider"], m["to"]) == (provider, to)
            ]
        )
    # a customer's files: the mail's PDF and screenshot, winmail.dat's three files, and the photo,
    # Viber file and MMS image a job fetched from the fake providers
    desk.eventually(lambda: len(desk.files()) >= 8)
    for kept in ("mixed_pdf_inline_image.eml", "outlook_winmail_dat.eml"):
        assert (checkout.folder / "local" / "inbox" / "processed" / kept).exists()
    # the five-minute tour: a warning at 75 %, the breach, the next morning's digest
    for subject, to in (
        ("[SLA 75%]", "tamara@example.com"),
        ("[SLA BREACHED]", "tamara@example.com"),
        ("[SLA BREACHED]", "care-team@promptly.example"),
        ("digest", "tamara@example.com"),
    ):
        desk.eventually(lambda subject=subject, to=to: [m for m in desk.mail_to(to) if subject in m["subject"]])
    assert (checkout.folder / "local" / "inbox" / "processed" / "gmail_plain_en.eml").exists()
    assert list((checkout.folder / "local" / "inbox" / "failed").iterdir()) == []
    written = sorted(path.name for path in (checkout.folder / "build").glob("digest-*"))
    assert {"digest-2026-11-23.html", "digest-2026-11-23.txt", "digest-2026-11-23.json"} <= set(written)
    assert len(written) == 6, written  # and the local desk's yesterday, by its clock
    assert "moved 0 job(s)" in pasted.stdout and "moved 0 email(s)" in pasted.stdout  # make redrive STAGE=local


def test_the_banner_prints_commands_that_work_for_the_ports_in_use(checkout, desk):
    banner = desk.banner.read_text()
    assert f"API            {desk.base}" in banner and f"DESK={desk.base}" in banner
    assert f"Console        {desk.base}/console" in banner  # the agents' console, named where a newcomer looks
    [form] = [line.split("Try the form", 1)[1].strip() for line in banner.splitlines() if "Try the form" in line]

    tried = checkout.shell(form)

    assert tried.returncode == 0, tried.stderr
    ticket = tried.stdout.strip()
    desk.eventually(lambda: [m for m in desk.mail_to("you@example.com") if ticket in m["subject"]])


def test_the_moved_clock_warns_at_75_percent_then_breaches_then_brings_the_morning_digest(checkout, desk):
    admin, customer = "clock-admin@example.com", "clock-customer@example.com"
    token = checkout.shell(
        f".venv/bin/python -m tools.create_admin --local --first Clock --last Admin --email {admin}"
    ).stdout.strip()
    ticket = checkout.shell(
        f".venv/bin/python -m tools.send_form --email {customer} --subject 'Cannot log in' "
        "--message 'Since this morning'"
    ).stdout.strip()
    take = urllib.request.Request(
        f"{desk.base}/api/tickets/{ticket}/take", method="POST", headers={"Authorization": f"Bearer {token}"}
    )
    urllib.request.urlopen(take, timeout=10).close()  # milliseconds after the form, and no 409

    def mail(subject: str, to: str = admin) -> list[dict[str, Any]]:
        return [m for m in desk.mail_to(to) if subject in m["subject"]]

    def clock(move: str) -> None:
        assert checkout.shell(f".venv/bin/python -m tools.clock {move}").returncode == 0

    clock("+3 business hours")
    desk.eventually(lambda: mail(f"[SLA 75%] {ticket}"), seconds=15)
    assert mail(f"[SLA BREACHED] {ticket}") == []

    clock("+1 business hour")
    desk.eventually(lambda: mail(f"[SLA BREACHED] {ticket}"), seconds=15)
    desk.eventually(lambda: mail(f"[SLA BREACHED] {ticket}", "care-team@promptly.example"), seconds=15)

    breached_on = desk.day()
    that_day = f"digest · {breached_on:%a} {breached_on.day} {breached_on:%b}:"  # its subject names the day
    assert mail(that_day) == []
    clock("08:05")  # the next morning
    desk.eventually(lambda: mail(that_day), seconds=15)


def test_a_signed_form_gets_its_acknowledgement_in_the_local_outbox_within_seconds(desk):
    payload = {"submission_id": "readme-1", "email": "newcomer@example.com", "message": "Hello!", "locale": "uk"}
    secret = local_stage_env(ROOT)["PROMPTLY_SECRET_FORM_SECRET"]
    request = signed_request(f"{desk.base}/webhooks/form", payload, secret)  # what tools.send_form sends
    with urllib.request.urlopen(request, timeout=10) as response:
        ticket = json.load(response)["ticket"]

    [mail] = desk.eventually(lambda: desk.mail_to("newcomer@example.com"), seconds=10)
    assert ticket in mail["subject"] and "Ми отримали ваше звернення" in mail["subject"]


def test_the_outbox_page_opens_in_a_browser(desk):
    with urllib.request.urlopen(f"{desk.base}/dev/mail", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/html")
        assert b"Local outbox" in response.read()


@pytest.mark.parametrize("taken", ["AWS_PORT", "PORT", "PROVIDERS_PORT"])
def test_make_run_with_a_port_taken_stops_at_once_naming_the_port_and_how_to_move_it(checkout, tmp_path, taken):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        ports = {
            "PORT": free_port(),
            "AWS_PORT": free_port(),
            "PROVIDERS_PORT": free_port(),
            taken: holder.getsockname()[1],
        }
        started = time.monotonic()
        stopped = subprocess.run(
            ["make", "run", *(f"{name}={port}" for name, port in ports.items())],
            cwd=checkout.folder,
            env={**checkout.env, "PROMPTLY_LOCAL_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            check=False,
            timeout=5,
        )

    assert time.monotonic() - started < 5 and stopped.returncode != 0
    [said] = [line for line in stopped.stderr.splitlines() if not line.startswith("make")]  # one line, no traceback
    assert said.startswith(f"port {ports[taken]} ") and f"make run {taken}=<port>" in said


def test_a_tool_with_no_desk_to_follow_says_how_to_start_one(checkout, tmp_path):
    env = {**checkout.env, "PROMPTLY_LOCAL_DIR": str(tmp_path)}
    for command in (
        "tools.create_admin --local --first A --last B --email a@example.com",
        "tools.clock +1h",
        "tools.digest --local",
        "tools.local --url",
    ):
        ran = subprocess.run(
            ["bash", "-c", f".venv/bin/python -m {command}"],
            cwd=checkout.folder,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert ran.returncode == 1 and ran.stderr.strip().endswith("start one with `make run`"), (command, ran.stderr)


def test_make_redrive_refuses_without_a_stage_like_make_deploy(checkout):
    refused = subprocess.run(
        ["make", "redrive"],
        cwd=checkout.folder,
        env=checkout.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert refused.returncode != 0
    assert "say which stage: STAGE=dev, STAGE=prod, or STAGE=local" in refused.stderr
