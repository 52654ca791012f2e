"""A customer, in a real browser, on a phone (375 px) and at a desk (1280 px): the "solved"
mail's "how did we do?" link opens a page that fits the screen and passes axe-core, the bad
choice is ticked, a comment is written, and the page says the rating is recorded; the agents'
API then shows the rating on the ticket. Screenshots in build/screenshots/."""

from __future__ import annotations

import re

from tests.browser import axe
from tests.browser.harness import Browser, LocalDesk, eventually

RATE_LINK = re.compile(r"https?://\S+/rate/[A-Za-z0-9_.-]+\?rating=(?:good|bad)")


def solved_ticket(desk: LocalDesk, token: str, customer: str) -> tuple[str, dict[str, str]]:
    """A form from `customer`, answered and solved by the admin; the "solved" mail's rate links."""
    ticket = desk.tool("tools.send_form", "--email", customer, "--subject", "Cannot log in", "--message", "Help")
    ticket = ticket.splitlines()[0].strip()
    # milliseconds after it came in, while the acknowledgement and the duty offer write the ticket:
    # the desk does the action again on a fresh read rather than answer 409
    desk.call("POST", f"/api/tickets/{ticket}/reply", token, {"text": "Reset your password."})
    desk.call("POST", f"/api/tickets/{ticket}/status", token, {"status": "solved"})

    def links() -> dict[str, str]:
        found = {}
        for mail in desk.mail_to(customer):
            for link in RATE_LINK.findall(mail.get("text") or ""):
                found[link.rsplit("=", 1)[1]] = link
        return found

    return ticket, eventually(lambda: len(links()) == 2 and links(), what=f"the solved mail's rate links to {customer}")


def test_a_customer_rates_from_the_solved_mail_and_the_page_confirms(local_desk, admin, browser: Browser):
    customer = f"rater-{browser.viewport}@example.com"
    ticket, links = solved_ticket(local_desk, admin, customer)

    browser.open(links["bad"])  # the 👎 link of the mail

    assert "How did we do?" in browser.find("h1").text
    assert browser.find("input[value=bad]").is_selected()  # the link's choice is ticked
    assert not browser.find("input[value=good]").is_selected()
    assert browser.page_width() <= browser.driver.execute_script("return window.innerWidth")  # no sideways scroll
    assert axe.serious_violations(browser.driver) == []
    browser.shot("1-opened")

    browser.find("#comment").send_keys("The reset mail never came.")
    browser.click("button[type=submit]")

    browser.wait_for_text("Thank you! Your rating is recorded.")
    assert browser.find("input[value=bad]").is_selected()
    assert browser.find("#comment").get_attribute("value") == "The reset mail never came."
    assert axe.serious_violations(browser.driver) == []
    browser.shot("2-confirmed")
    rated = local_desk.call("GET", f"/api/tickets/{ticket}", admin)
    assert rated["rating"]["rating"] == "bad", rated


def test_the_vendored_axe_core_is_the_pinned_release():
    import hashlib

    assert hashlib.sha256(axe.AXE.read_bytes()).hexdigest() == axe.AXE_SHA256
    assert "4.14.1" in (axe.AXE.parent / "VENDORED.md").read_text(encoding="utf-8")


def test_the_axe_helper_reports_a_serious_violation_when_there_is_one(browser: Browser):
    """So that an empty list from `serious_violations` means a clean page, not a helper that never ran."""
    browser.open("data:text/html,<html lang=en><title>t</title><main><img src=x.png></main></html>")

    found = {violation["id"] for violation in axe.serious_violations(browser.driver)}

    assert "image-alt" in found
