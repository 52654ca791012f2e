"""The agent's day in one path, in a real browser, on a phone (375 px) and at a desk (1280 px):
sign in with the code the local outbox shows, find the new ticket at the top of Unassigned with its
countdown, open it from the list, add an internal note, answer, find the answer in the local
outbox, and see the ticket gone from Unassigned. axe-core finds no serious or critical violation on
the queue or the ticket. Screenshots in build/screenshots/ (CI keeps the folder)."""

from __future__ import annotations

import re

import pytest

from tests.browser import axe
from tests.browser.harness import Browser, LocalDesk, eventually, sign_in

AGENT = "mira@example.com"


@pytest.fixture(scope="module")
def agent(local_desk: LocalDesk) -> str:
    return local_desk.tool(
        "tools.create_admin", "--local", "--first", "Mira", "--last", "Moroz", "--email", AGENT
    ).strip()


def sign_in_with_the_mailed_code(desk: LocalDesk, browser: Browser) -> None:
    browser.open(f"{desk.base}/console")  # signed out: the console sends the browser to sign in
    browser.wait_for_text("Send me a sign-in code")
    browser.shot("1-sign-in")
    sign_in(desk, browser, AGENT)


def test_sign_in_see_it_due_open_note_answer_and_it_leaves_unassigned(local_desk, agent, browser: Browser):
    from selenium.webdriver.common.keys import Keys

    customer = f"journey-{browser.viewport}@example.com"
    subject = f"Refund not received ({browser.viewport})"
    made = local_desk.tool("tools.send_form", "--email", customer, "--subject", subject, "--message", "Paid twice.")
    ticket = made.splitlines()[0].strip()
    sign_in_with_the_mailed_code(local_desk, browser)

    browser.open(f"{local_desk.base}/console/queue?view=unassigned")
    first = "const r = document.querySelector('tr.ticket-row'); return r && r.dataset.ticket"
    top = eventually(lambda: browser.driver.execute_script(first), what="a queue row")
    assert top == ticket  # the newest ticket is due soonest: at the top
    # Read in one step: the list re-renders its rows as it polls, so a found cell can go stale.
    clock, level = browser.driver.execute_script(
        "const c = document.querySelector(arguments[0]); return [c.innerText, c.className]",
        f"tr[data-ticket='{ticket}'] td.clock",
    )
    assert re.search(r"\bin \d+ (hr|min)", clock), clock  # its countdown, e.g. "in 3 hr 59 min · 14:05"
    assert "level-ok" in level
    assert browser.page_width() <= browser.driver.execute_script("return window.innerWidth")
    assert axe.serious_violations(browser.driver) == []
    browser.shot("2-queue")

    browser.click(f"tr[data-ticket='{ticket}'] td.ref a")
    browser.wait_for_text(subject)
    assert browser.driver.current_url.endswith(f"/console/t/{ticket}")
    assert axe.serious_violations(browser.driver) == []

    browser.click("label[for=mode-note]")
    browser.find("#composer-text").send_keys("Second charge visible in the payment log.")
    browser.click("button.add-note")
    browser.wait_for_text("Second charge visible in the payment log.")
    assert browser.find("#thread li.entry.note .note-label").text.lower() == "internal note"
    browser.shot("3-note")

    browser.click("label[for=mode-reply]")
    browser.find("#composer-text").send_keys("We refunded the second payment today.")
    browser.find("#composer-text").send_keys(Keys.CONTROL, Keys.ENTER)
    eventually(lambda: browser.driver.find_elements("css selector", "#thread li.entry.answer"), what="the answer")
    browser.shot("4-answered")
    mail = eventually(
        lambda: [m for m in local_desk.mail_to(customer) if "refunded the second payment" in (m.get("text") or "")],
        what="the answer in the local outbox",
    )[0]
    assert "Mira Moroz" in mail["text"]  # signed with the agent's name
    assert "payment log" not in mail["text"]  # the internal note never reaches the customer

    browser.open(f"{local_desk.base}/console/queue?view=unassigned")
    browser.wait_for_text("Unassigned")
    rows = browser.driver.find_elements("css selector", "tr.ticket-row")
    assert ticket not in [row.get_attribute("data-ticket") for row in rows]  # answered: it is Mira's now
    browser.shot("5-gone-from-unassigned")
    browser.open(f"{local_desk.base}/console/queue?view=mine")
    eventually(
        lambda: (
            ticket
            in [r.get_attribute("data-ticket") for r in browser.driver.find_elements("css selector", "tr.ticket-row")]
        ),
        what="the ticket in Mine",
    )
