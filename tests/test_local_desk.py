"""The README's first command: the whole desk on this machine, over real HTTP, with the
embedded AWS and the outbox worker running — a newcomer's form gets its acknowledgement."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.harness import local_stage_env
from tools.send_form import signed_request

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def local_desk():
    ports = [free_port() for _ in range(3)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PROMPTLY_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.local", "--port", str(ports[0]), "--aws-port", str(ports[1]),
         "--providers-port", str(ports[2])],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{ports[0]}"
    try:
        wait_for(f"{base}/dev/outbox")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def outbox(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/dev/outbox", timeout=5) as response:
        return json.load(response)


def test_a_signed_form_gets_its_acknowledgement_in_the_local_outbox_within_seconds(local_desk):
    payload = {"submission_id": "readme-1", "email": "newcomer@example.com", "message": "Hello!", "locale": "uk"}
    secret = local_stage_env(ROOT)["PROMPTLY_SECRET_FORM_SECRET"]
    request = signed_request(f"{local_desk}/webhooks/form", payload, secret)  # what tools.send_form sends
    with urllib.request.urlopen(request, timeout=10) as response:
        ticket = json.load(response)["ticket"]

    deadline = time.monotonic() + 10
    while not outbox(local_desk)["messages"] and time.monotonic() < deadline:
        time.sleep(0.2)

    [mail] = outbox(local_desk)["messages"]
    assert mail["to"] == "newcomer@example.com" and ticket in mail["subject"]
    assert "Ми отримали ваше звернення" in mail["subject"]


def test_the_outbox_page_opens_in_a_browser(local_desk):
    with urllib.request.urlopen(f"{local_desk}/dev/mail", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/html")
        assert b"Local outbox" in response.read()


def readme_commands(containing: str) -> list[str]:
    """The README's shell commands (continued lines joined) that contain `containing`."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", readme, flags=re.S):
        for command in block.replace("\\\n", " ").splitlines():
            if containing in command and not command.lstrip().startswith("#"):
                commands.append(command)
    return commands


@pytest.mark.parametrize("webhook, answer", [("/webhooks/form", "ticket"), ("/webhooks/chat", "ok")])
def test_the_readmes_signed_curl_lines_work_as_pasted(local_desk, webhook, answer):
    [command] = readme_commands(f"http://127.0.0.1:8000{webhook}")

    pasted = subprocess.run(["bash", "-c", command.replace("http://127.0.0.1:8000", local_desk)],
                            capture_output=True, text=True, timeout=30)

    assert answer in json.loads(pasted.stdout), pasted.stdout + pasted.stderr
