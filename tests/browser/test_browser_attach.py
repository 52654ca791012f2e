"""An agent sends a file back from a real browser: picked in the composer, it goes straight to
the local desk's S3 (the embedded AWS, a presigned POST with its CORS answer), the answer takes
it, and the customer's mail in the local outbox carries it. Screenshots in build/screenshots/."""

from __future__ import annotations

from tests.attach_send import PDF
from tests.browser.harness import ADMIN, Browser, eventually, sign_in


def test_an_agent_picks_a_file_and_the_customer_gets_it(local_desk, admin, browser: Browser, tmp_path):
    customer = f"files-{browser.viewport}@example.com"
    out = local_desk.tool("tools.send_form", "--email", customer, "--subject", "Invoice", "--message", "Send it please")
    ticket = out.splitlines()[0].strip()
    picked = tmp_path / "invoice-2026.pdf"
    picked.write_bytes(PDF)
    sign_in(local_desk, browser, ADMIN)

    browser.open(f"{local_desk.base}/console/t/{ticket}")
    browser.wait_for_text("Invoice")
    assert browser.find("#attach").is_displayed()  # the script is there: the picker shows
    browser.find("#attach-input").send_keys(str(picked))
    eventually(lambda: "ready" in browser.find("#attach-list").text or None, what="the file uploaded to S3", seconds=20)
    assert browser.find("#attach-keys").get_attribute("value").startswith(f"uploads/{ticket}/")
    browser.driver.execute_script("document.getElementById('attach').scrollIntoView({block: 'center'})")
    browser.shot("1-picked")
    browser.find("#composer-text").send_keys("Here is your invoice.")
    browser.click("button.send")
    browser.wait_for_text("Here is your invoice.")

    mails = eventually(
        lambda: [m for m in local_desk.mail_to(customer) if "Here is your invoice." in (m.get("text") or "")],
        what="the answer in the outbox",
        seconds=20,
    )
    assert mails[0]["attachments"] == [{"name": "invoice-2026.pdf", "type": "application/pdf", "size": len(PDF)}]
    assert "invoice-2026.pdf" in browser.find("#thread li.entry.answer").text  # listed on the answer
    browser.shot("2-sent")
