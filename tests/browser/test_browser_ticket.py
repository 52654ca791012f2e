"""An agent works a ticket in a real browser, on a phone (375 px) and at a desk (1280 px): the
page fits the screen and passes axe-core, the Note switch recolours the composer and swaps its
button, Ctrl+Enter adds the note, a canned reply goes in from the picker and Ctrl+Enter sends it
— the customer finds it in the local outbox — and the page's heartbeat runs. Screenshots in
build/screenshots/."""

from __future__ import annotations

from tests.browser import axe
from tests.browser.harness import ADMIN, Browser, eventually, sign_in


def test_an_agent_notes_and_answers_from_the_ticket_page(local_desk, admin, browser: Browser):
    from selenium.webdriver.common.keys import Keys

    customer = f"page-{browser.viewport}@example.com"
    out = local_desk.tool("tools.send_form", "--email", customer, "--subject", "Cannot log in", "--message", "Help")
    ticket = out.splitlines()[0].strip()
    sign_in(local_desk, browser, ADMIN)

    browser.open(f"{local_desk.base}/console/t/{ticket}")
    browser.wait_for_text("Cannot log in")
    assert browser.page_width() <= browser.driver.execute_script("return window.innerWidth")  # no sideways scroll
    assert axe.serious_violations(browser.driver) == []
    browser.shot("1-opened")

    browser.click("label[for=mode-note]")
    composer = browser.find("#composer")
    assert "mode-note" in composer.get_attribute("class")
    assert browser.find("button.add-note").is_displayed() and not browser.find("button.send").is_displayed()
    text = browser.find("#composer-text")
    text.send_keys("Checked the account: the password was never set.")
    browser.shot("2-note-mode")
    text.send_keys(Keys.CONTROL, Keys.ENTER)
    browser.wait_for_text("the password was never set")
    assert browser.find("#thread li.entry.note .note-label").text.lower() == "internal note"

    browser.click("label[for=mode-reply]")
    assert browser.find("button.send").is_displayed() and not browser.find("button.add-note").is_displayed()
    from selenium.webdriver.support.ui import Select

    Select(browser.find("#canned-picker")).select_by_visible_text("We are looking into it")
    browser.click("#canned-insert")
    assert browser.find("#composer-text").get_attribute("value").startswith("Hello")
    browser.find("#composer-text").send_keys(Keys.CONTROL, Keys.ENTER)
    browser.wait_for_text("Ada Admin")
    eventually(lambda: browser.find("#thread li.entry.answer"), what="the answer on the page")
    mails = eventually(
        lambda: [m for m in local_desk.mail_to(customer) if "I am looking into this now" in (m.get("text") or "")],
        what="the answer in the outbox",
    )
    assert "Ada Admin" in mails[0]["text"]
    assert browser.find("#presence-mode").get_attribute("value") == "viewing"  # the heartbeat's form is there
    assert axe.serious_violations(browser.driver) == []
    browser.shot("3-answered")


def test_an_agent_opens_the_whole_message_under_an_email_and_hides_it_again(local_desk, admin, browser: Browser):
    """Issue 17: the ticket keeps the customer's words; "Show the whole message" brings in the mail
    as received, quoted history included, in place (htmx), and its summary folds it away."""
    from selenium.webdriver.common.by import By

    subject = f"Export broken ({browser.viewport})"
    raw = (
        f"From: Jane Doe <jane.{browser.viewport}@example.com>\nTo: support@promptly.example\n"
        f"Subject: {subject}\nMessage-ID: <whole-{browser.viewport}@example.com>\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "The export still does nothing.\n\n"
        "On Mon, 23 Nov 2026 at 10:00, Promptly Support <support@promptly.example> wrote:\n"
        "> Please try the export again after clearing the cache.\n"
    )
    (local_desk.local / "inbox" / f"whole-{browser.viewport}.eml").write_text(raw)
    [ticket] = eventually(
        lambda: [
            t["ticket"] for t in local_desk.call("GET", "/api/tickets", admin)["tickets"] if t["subject"] == subject
        ],
        what="the email's ticket",
    )
    sign_in(local_desk, browser, ADMIN)

    browser.open(f"{local_desk.base}/console/t/{ticket}")
    browser.wait_for_text("The export still does nothing.")
    assert "clearing the cache" not in browser.text()  # the stored reply: the customer's words only
    browser.click("a.whole-link")
    [quoted] = eventually(
        lambda: browser.driver.find_elements(By.CSS_SELECTOR, "pre.whole-text span.quoted"),
        what="the whole message in place",
    )
    assert quoted.text == "> Please try the export again after clearing the cache."
    assert browser.driver.current_url.endswith(f"/console/t/{ticket}")  # in place, not another page
    assert browser.page_width() <= browser.driver.execute_script("return window.innerWidth")  # long lines wrap
    assert axe.serious_violations(browser.driver) == []
    browser.shot("4-whole-message")

    browser.click("details.whole summary")
    assert not browser.find("pre.whole-text").is_displayed()
    assert browser.find("details.whole summary").text == "Show the whole message"
