"""Screenshots of the agents' console for the README: a local desk on free ports, a realistic
morning seeded the way the README's commands do it, and the queue and one ticket photographed by
headless Chromium at a desk's width (1280 px) and a phone's (375 px).

    python -m tools.screenshot_console [--out docs/console]

Needs Chromium and chromedriver (Debian: `apt-get install chromium chromium-driver`); about half
a minute. The desk is the one the browser tests start (tools/local_browser.py), in a temporary
folder, gone afterwards. The morning, on the desk's clock (tools.clock) at 09:00 of its next
working day; Tamara Tour is the admin tools.create_admin --local makes, Olena Koval an agent she
adds with the API:

    09:00  Jane's email and Сергей's (tests/fixtures/email/ copied into local/inbox/), Оксана's
           form (uk, tools.send_form); Tamara takes Jane's ticket
    09:20  Priya's form, which Tamara makes urgent; Daniel on Telegram (en), Богдан on Viber
           (uk); Анна on the website chat (ru), answered and set pending ("Waiting on customer")
    09:25  Olena adds an internal note to Daniel's ticket, Tamara answers him
    09:55  Daniel writes again; Tom by SMS. Богдан's first response is late (red), Priya's urgent
           one past its first alert share (amber), the rest green or paused

Tamara signs in through the real sign-in page with the code from the local outbox (GET
/dev/outbox) while Olena has Daniel's ticket open in a second browser, and the tool saves, in
--out: queue-1280.png and queue-375.png (All open), ticket-1280.png and ticket-375.png (Daniel's
ticket: the promise and clocks, his messages, Olena's note, Tamara's answer, the events, the
customer, "Olena Koval is viewing"), each page whole, however long. It prints their paths, and
says when a page is wider than the screen.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.signing import sign_timestamped
from tools.local_browser import ROOT, LocalDesk, chromium_missing, eventually, local_desk, start_chromium
from tools.local_desk import stage_environment

SECRETS = stage_environment("local")
EMAILS = ROOT / "tests" / "fixtures" / "email"
ADMIN = ("Tamara", "Tour", "tamara@promptly.example")
COLLEAGUE = ("Olena", "Koval", "olena@promptly.example")
WIDTHS = {"desktop": 1280, "phone": 375}
SCREEN_FLAGS = ("--force-device-scale-factor=1", "--hide-scrollbars")
CODE = re.compile(r"\b(\d{6})\b")
CLOSED_DAYS = {"Sat", "Sun"}
FEATURED = (
    "Hi! My card was charged twice for the November invoice.\n"
    "INV-2026-1142, €49 on 30 November, two payments a minute apart. Could you refund the second one?"
)
NOTE = "Stripe shows two charges of €49 on 30 Nov, 10:14 and 10:15: the second is the retry after a timeout."
ANSWER = (
    "Hello Daniel, you are right: the payment page timed out and charged your card a second time. "
    "We have refunded the second €49 today; your bank shows it within 5 working days. Sorry for the trouble!"
)
ANSWER_ANNA = "Анна, да, можно: разницу за остаток месяца спишем сразу. Перевести вас сегодня?"


# --- the customers write in (README: "See an acknowledgement", "The messaging channels") -------


def post(desk: LocalDesk, path: str, body: bytes, headers: dict[str, str]) -> None:
    """A webhook delivery; a refusal (4xx/5xx) stops the tool with urllib's HTTPError."""
    request = urllib.request.Request(f"{desk.base}{path}", data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def form(desk: LocalDesk, *, email: str, name: str, subject: str, message: str, locale: str, zone: str) -> str:
    """tools.send_form, as README runs it; the ticket's reference."""
    out = desk.tool(
        "tools.send_form",
        *("--email", email, "--name", name, "--subject", subject, "--message", message),
        *("--locale", locale, "--timezone", zone),
    )
    return out.splitlines()[0].strip()


def telegram(desk: LocalDesk, chat_id: int, number: int, first: str, last: str, language: str, text: str) -> None:
    update = {
        "update_id": chat_id * 100 + number,
        "message": {
            "message_id": number,
            "date": int(time.time()),
            "text": text,
            "from": {"id": chat_id, "is_bot": False, "first_name": first, "last_name": last, "language_code": language},
            "chat": {"id": chat_id, "type": "private"},
        },
    }
    secret = SECRETS["PROMPTLY_SECRET_TELEGRAM_SECRET_TOKEN"]
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}
    post(desk, "/webhooks/telegram", json.dumps(update).encode(), headers)


def viber(desk: LocalDesk, user: str, name: str, language: str, text: str) -> None:
    callback = {
        "event": "message",
        "timestamp": int(time.time() * 1000),
        "message_token": int(hashlib.sha256(user.encode()).hexdigest()[:12], 16),
        "sender": {"id": user, "name": name, "language": language},
        "message": {"type": "text", "text": text},
    }
    body = json.dumps(callback).encode()
    signature = hmac.new(SECRETS["PROMPTLY_SECRET_VIBER_AUTH_TOKEN"].encode(), body, hashlib.sha256).hexdigest()
    post(desk, "/webhooks/viber", body, {"Content-Type": "application/json", "X-Viber-Content-Signature": signature})


def sms(desk: LocalDesk, phone: str, text: str) -> None:
    url = f"{desk.base}/webhooks/twilio"
    params = {
        "AccountSid": SECRETS["PROMPTLY_SECRET_TWILIO_ACCOUNT_SID"],
        "Body": text,
        "From": phone,
        "MessageSid": "SM" + hashlib.sha256(phone.encode()).hexdigest()[:32],
        "To": SECRETS["PROMPTLY_TWILIO_SMS_FROM"],
    }
    signed = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    key = SECRETS["PROMPTLY_SECRET_TWILIO_AUTH_TOKEN"].encode()
    signature = base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha1).digest()).decode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    post(desk, "/webhooks/twilio", urllib.parse.urlencode(params).encode(), headers)


def chat(desk: LocalDesk, visitor: str, name: str, locale: str, text: str) -> None:
    message = {"message_id": f"{visitor}-1", "visitor_id": visitor, "text": text, "name": name, "locale": locale}
    body = json.dumps(message).encode()
    timestamp, signature = sign_timestamped(SECRETS["PROMPTLY_SECRET_CHAT_SECRET"], body, datetime.now(UTC))
    headers = {
        "Content-Type": "application/json",
        "X-Promptly-Timestamp": timestamp,
        "X-Promptly-Signature": signature,
    }
    post(desk, "/webhooks/chat", body, headers)


def email(desk: LocalDesk, fixture: str) -> None:
    """An .eml copied into local/inbox/, as README says."""
    inbox = desk.local / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(EMAILS / fixture, inbox / fixture)


def ticket_of(desk: LocalDesk, token: str, channel: str, customer: str = "") -> str:
    """The live ticket on `channel` whose customer's name has `customer` in it, once intake has
    stored it (an email in local/inbox/ takes a moment)."""

    def found() -> str | None:
        tickets = desk.call("GET", "/api/tickets", token)["tickets"]
        return next((t["ticket"] for t in tickets if t["channel"] == channel and customer in t["customer"]), None)

    return str(eventually(found, 60, f"the {channel} ticket of {customer or 'its customer'}"))


def act(desk: LocalDesk, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
    """An agent's POST to the JSON API, tried again after a 409 "changed meanwhile" (a new
    ticket's acknowledgement is written just after intake, and may cross the agent's action)."""
    for _ in range(10):
        try:
            return desk.call("POST", path, token, body)
        except urllib.error.HTTPError as error:
            if error.code != 409:
                raise
            time.sleep(0.5)
    return desk.call("POST", path, token, body)


# --- the desk's clock ----------------------------------------------------------------------------


def clock(desk: LocalDesk, *move: str) -> str:
    """tools.clock, as README runs it; what the desk's clock says now."""
    return desk.tool("tools.clock", *move).strip()


def to_working_morning(desk: LocalDesk) -> None:
    """09:00 on the desk's next working day (weekends are closed in desk.toml's calendar)."""
    said = clock(desk, "09:00")
    while said.split(": ", 1)[1][:3] in CLOSED_DAYS:
        said = clock(desk, "+1d")


# --- the morning ---------------------------------------------------------------------------------


def seed(desk: LocalDesk) -> str:
    """The morning above; the featured ticket's reference (Daniel's)."""
    to_working_morning(desk)
    first, last, address = ADMIN
    token = desk.tool("tools.create_admin", "--local", "--first", first, "--last", last, "--email", address).strip()
    first, last, address = COLLEAGUE
    colleague = desk.call(
        "POST",
        "/api/agents",
        token,
        {"first_name": first, "last_name": last, "email": address, "queues": ["general", "billing", "tech"]},
    )
    colleague_token = desk.call("POST", f"/api/agents/{colleague['agent']}/tokens", token)["token"]

    # 09:00
    email(desk, "gmail_plain_en.eml")
    email(desk, "mailru_ru_cp1251.eml")
    form(
        desk,
        email="oksana.melnyk@example.com",
        name="Оксана Мельник",
        subject="Не приходить лист для входу",
        message="Добрий день! Вже годину чекаю на лист із посиланням для входу, його немає навіть у спамі.",
        locale="uk",
        zone="Europe/Kyiv",
    )
    act(desk, f"/api/tickets/{ticket_of(desk, token, 'email', 'Jane')}/take", token)
    ticket_of(desk, token, "email", "Сергей")

    clock(desk, "+20m")  # 09:20
    urgent = form(
        desk,
        email="priya.shah@example.com",
        name="Priya Shah",
        subject="Checkout fails with error 500 for every customer",
        message="Since 09:10 every order in our shop ends with 'error 500' at the payment step. We are losing sales.",
        locale="en",
        zone="Europe/Berlin",
    )
    act(desk, f"/api/tickets/{urgent}/priority", token, {"priority": "urgent", "reason": "A shop cannot sell"})
    telegram(desk, 4242, 1, "Daniel", "Harris", "en", FEATURED)
    viber(
        desk,
        "viber-bohdan",
        "Богдан Шевчук",
        "uk",
        "Привіт! Не працює оплата карткою в застосунку, пише «помилка банку».",
    )
    chat(desk, "visitor-anna", "Анна Соколова", "ru", "Можно ли перейти с тарифа «Старт» на «Команду» посреди месяца?")
    featured = ticket_of(desk, token, "telegram", "Daniel")
    act(desk, f"/api/tickets/{featured}/take", token)
    waiting = ticket_of(desk, token, "chat", "Анна")
    act(desk, f"/api/tickets/{waiting}/reply", token, {"text": ANSWER_ANNA})
    act(desk, f"/api/tickets/{waiting}/status", token, {"status": "pending"})
    ticket_of(desk, token, "viber", "Богдан")

    clock(desk, "+5m")  # 09:25
    act(desk, f"/api/tickets/{featured}/notes", colleague_token, {"text": NOTE})
    act(desk, f"/api/tickets/{featured}/reply", token, {"text": ANSWER})

    clock(desk, "+30m")  # 09:55: the urgent form is amber, Богдан's Viber red
    telegram(
        desk, 4242, 2, "Daniel", "Harris", "en", "Thank you! Will the refund show as a separate line on my statement?"
    )
    sms(desk, "+447700900123", "Hi, how do I change the phone number on my account? Tom")
    ticket_of(desk, token, "sms")
    eventually(
        lambda: desk.call("GET", f"/api/tickets/{featured}", token)["next_response_due"], 30, "Daniel's next message"
    )
    return featured


# --- the browsers --------------------------------------------------------------------------------


@contextmanager
def chromium(viewport: str, folder: Path) -> Iterator[Any]:
    driver = start_chromium(viewport, folder / f"profile-{viewport}-{time.monotonic_ns()}", *SCREEN_FLAGS)
    try:
        yield driver
    finally:
        driver.quit()


def sign_in(driver: Any, desk: LocalDesk, address: str) -> None:
    """Through the real sign-in page, with the code the local outbox shows."""
    from selenium.webdriver.common.by import By

    def codes() -> set[str]:
        return {m["subject"] for m in desk.mail_to(address) if "sign-in code" in m["subject"]}

    before = codes()
    driver.get(f"{desk.base}/console/sign-in")
    driver.find_element(By.CSS_SELECTOR, "#email").send_keys(address)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    eventually(lambda: driver.find_elements(By.CSS_SELECTOR, "#code"), 10, "the code field")
    subject = eventually(lambda: codes() - before, 30, f"the sign-in code of {address}").pop()
    code = CODE.search(subject)
    if code is None:
        raise SystemExit(f"no code in the sign-in mail's subject: {subject!r}")
    driver.find_element(By.CSS_SELECTOR, "#code").send_keys(code.group(1))
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    eventually(lambda: "Sign out" in page_text(driver), 10, "signed in")


def page_text(driver: Any) -> str:
    """What the page shows; "" while a click's page load replaces it."""
    from selenium.common.exceptions import WebDriverException

    try:
        return str(driver.execute_script("return document.body ? document.body.innerText : ''"))
    except WebDriverException:
        return ""


def whole_page(driver: Any, png: Path) -> None:
    """The page from top to bottom at the viewport's width (Chrome DevTools' full-page capture)."""
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    png.write_bytes(base64.b64decode(shot["data"]))


def settle(driver: Any, ready: str) -> None:
    """Until `ready` shows and htmx has nothing in flight (the presence banner, the customer)."""
    from selenium.webdriver.common.by import By

    eventually(lambda: driver.find_elements(By.CSS_SELECTOR, ready), 15, ready)
    eventually(lambda: not driver.execute_script("return document.querySelector('.htmx-request') !== null"), 15)
    time.sleep(0.5)


def photograph(desk: LocalDesk, featured: str, out: Path, folder: Path) -> list[tuple[Path, int]]:
    """[(PNG, how many CSS pixels the page was wider than the screen: 0, or something to fix)]"""
    written: list[tuple[Path, int]] = []
    with chromium("desktop", folder) as colleague:
        sign_in(colleague, desk, COLLEAGUE[2])
        colleague.get(f"{desk.base}/console/t/{featured}")  # "Olena Koval is viewing", beating every 10 s
        settle(colleague, "#thread")
        for viewport, width in WIDTHS.items():
            with chromium(viewport, folder) as driver:
                sign_in(driver, desk, ADMIN[2])
                for name, page, ready in (
                    ("queue", "/console/queue?view=all", "tr.ticket-row .presence"),
                    ("ticket", f"/console/t/{featured}", "#presence .viewer"),
                ):
                    driver.get(f"{desk.base}{page}")
                    settle(driver, ready)
                    png = out / f"{name}-{width}.png"
                    whole_page(driver, png)
                    wider = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
                    written.append((png, int(wider)))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console")
    args = parser.parse_args()
    missing = chromium_missing()
    if missing:
        raise SystemExit(f"{missing} is missing: apt-get install chromium chromium-driver")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="promptly-shots-") as scratch, local_desk(Path(scratch)) as desk:
        written = photograph(desk, seed(desk), args.out.resolve(), Path(scratch))
    for png, wider in written:
        print(f"{png}  OVERFLOWS by {wider} px" if wider > 0 else png)
    sys.exit(0)


if __name__ == "__main__":
    main()
