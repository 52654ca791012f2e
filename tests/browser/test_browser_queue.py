"""The queue in a real browser, on a phone (375 px) and at a desk (1280 px): an agent signs in with
the code from the local outbox and lands on the queue; the rows fit the screen with their
countdowns, axe-core finds no serious violation, the tab's title gets the counts of unassigned
and breaching tickets, and the list refreshing itself does not pull the rows from under an agent
who has one focused: a pill offers the new ticket instead, and brings it in when pressed.
Screenshots in build/screenshots/."""

from __future__ import annotations

import re

import pytest

from tests.browser import axe
from tests.browser.harness import Browser, LocalDesk, eventually, sign_in


@pytest.fixture(scope="module")
def agent(local_desk: LocalDesk) -> str:
    """An admin works every queue: the one person a fresh local desk has."""
    local_desk.tool("tools.create_admin", "--local", "--first", "Ada", "--last", "Admin", "--email", "ada@example.com")
    return "ada@example.com"


def send_form(desk: LocalDesk, customer: str, subject: str) -> str:
    out = desk.tool("tools.send_form", "--email", customer, "--subject", subject, "--message", "Help, please.")
    return out.splitlines()[0].strip()


def test_the_queue_fits_refreshes_and_keeps_a_focused_row_in_place(local_desk, agent, browser: Browser):
    first = send_form(local_desk, f"first-{browser.viewport}@example.com", "Cannot log in")
    sign_in(local_desk, browser, agent)
    browser.wait_for_text(first)
    driver = browser.driver

    assert driver.current_url.startswith(f"{local_desk.base}/console/queue")
    row = browser.find(f'tr.ticket-row[data-ticket="{first}"]')
    assert "First response" in row.text and re.search(r"in \d", row.text), row.text
    assert browser.page_width() <= driver.execute_script("return window.innerWidth")  # no sideways scroll
    eventually(lambda: re.match(r"\(\d+ · \d+\) Queue · ", driver.title), 10, "the counts in the title")
    assert axe.serious_violations(driver) == []
    browser.shot("1-queue")

    driver.execute_script("document.querySelector('td.ref a').focus()")  # the agent's keyboard is on a row
    second = send_form(local_desk, f"second-{browser.viewport}@example.com", "Cannot pay")
    driver.execute_script("htmx.trigger(document.getElementById('queue-rows'), 'refresh')")

    pill = eventually(lambda: browser.find("#queue-fresh").is_displayed() and browser.find("#queue-refresh"), 10)
    assert pill.text == "1 new — refresh"
    assert second not in browser.find("#queue-rows").text  # the rows stayed as they were
    browser.shot("2-new-ticket-pill")

    pill.click()
    browser.wait_for_text(second)
    assert not browser.find("#queue-fresh").is_displayed()
    browser.shot("3-refreshed")
