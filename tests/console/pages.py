"""What the console's tests share: read a page as a browser would (selectolax, an HTML5 parser),
sign in as an agent through the real code mail, post a form as the console's own page does, and
snapshot every table (a GET must leave them as they were)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

ORIGIN = {"Origin": "http://127.0.0.1:8000"}
SAME_SITE = {"Sec-Fetch-Site": "same-origin"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HTMX = {"HX-Request": "true"}


class Page:
    """A console page: its forms (action, method, fields), its words, CSS lookups, and whether it
    carries any inline script or inline event handler (the console's CSP forbids both)."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.tree = HTMLParser(html)
        self.forms: list[dict[str, Any]] = [_form(node) for node in self.tree.css("form")]
        self.inline_script = any("src" not in node.attributes for node in self.tree.css("script")) or any(
            name.lower().startswith("on") for node in self.tree.css("*") for name in node.attributes
        )

    @property
    def words(self) -> str:
        body = self.tree.body or self.tree.root
        title = self.tree.css_first("title")
        text = " ".join(body.text(separator=" ").split()) if body is not None else ""
        return f"{title.text()} {text}" if title is not None else text

    def css(self, selector: str) -> list[Node]:
        return self.tree.css(selector)

    def one(self, selector: str) -> Node:
        found = self.tree.css(selector)
        assert len(found) == 1, f"{selector}: {len(found)} found"
        return found[0]

    def form(self, action_ending: str) -> dict[str, Any]:
        found = [form for form in self.forms if str(form["action"] or "").endswith(action_ending)]
        assert len(found) == 1, f"forms ending {action_ending}: {[f['action'] for f in self.forms]}"
        return found[0]


def _form(node: Node) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for field in node.css("input, textarea, select"):
        name = field.attributes.get("name")
        if name is not None and field.attributes.get("type") not in ("submit", "button"):
            fields.setdefault(name, field.attributes.get("value") or (field.text() if field.tag == "textarea" else ""))
    return {"action": node.attributes.get("action"), "method": node.attributes.get("method"), "fields": fields}


def page(response: Any) -> Page:
    assert response.headers["Content-Type"].startswith("text/html")
    parsed = Page(response.body.decode())
    assert not parsed.inline_script
    return parsed


def post(
    desk: Any,
    path: str,
    fields: dict[str, str],
    headers: dict[str, str] | None = None,
    cookie: str = "",
    *,
    door: bool = True,
) -> Any:
    """A form post. To the sign-in forms it carries their CSRF token and its door cookie, as the
    browser that loaded the sign-in page would (`door=False`: a post from elsewhere)."""
    sent = {**FORM, **(ORIGIN if headers is None else headers)}
    if door and path.startswith("/console/sign-in") and "door" not in fields:
        door_cookie, token = door_of(desk)
        fields = {**fields, "door": token}
        cookie = f"{cookie}; {door_cookie}" if cookie else door_cookie
    if cookie:
        sent["Cookie"] = cookie
    return desk.client.http.post(path, headers=sent, body=urlencode(fields))


def door_of(desk: Any) -> tuple[str, str]:
    """What a browser gets from the sign-in page: its door cookie ("name=value") and the form's token."""
    shown = desk.client.http.get("/console/sign-in")
    [line] = set_cookies(shown)
    return line.split(";")[0], str(Page(shown.body.decode()).form("/console/sign-in")["fields"]["door"])


def get(desk: Any, path: str, cookie: str = "", headers: dict[str, str] | None = None) -> Any:
    return desk.client.http.get(path, headers={**({"Cookie": cookie} if cookie else {}), **(headers or {})})


def set_cookies(response: Any) -> list[str]:
    value = response.headers.get("Set-Cookie") or response.headers.get("set-cookie") or []
    return value if isinstance(value, list) else [value]


def codes_mailed(desk: Any, to: str) -> list[str]:
    desk.pump()
    return [
        re.search(r"\b(\d{6})\b", mail["subject"]).group(1)  # type: ignore[union-attr]
        for mail in desk.sent_mail()
        if to in mail["to"] and "sign-in code" in mail["subject"]
    ]


def sign_in(desk: Any, email: str) -> str:
    """Ask for a code, read it in the outbox, type it: the session cookie ("name=value")."""
    assert post(desk, "/console/sign-in", {"email": email}).status_code == 200
    code = codes_mailed(desk, email)[0]
    response = post(desk, "/console/sign-in/code", {"email": email, "code": code})
    assert response.status_code == 303, response.body
    return set_cookies(response)[0].split(";")[0]


def csrf_of(desk: Any, cookie: str) -> str:
    """The CSRF token the console's pages carry for this session (from the sign-out form)."""
    queue = page(get(desk, "/console/queue", cookie))
    return str(queue.form("/sign-out")["fields"]["csrf"])


def act(
    desk: Any, cookie: str, path: str, fields: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> Any:
    """A signed-in form post from the console's own page: origin and CSRF token included."""
    return post(desk, path, {"csrf": csrf_of(desk, cookie), **(fields or {})}, headers=headers, cookie=cookie)


def keys_table() -> list[dict[str, Any]]:
    from chalicelib.models import Key

    return sorted((item.attribute_values for item in Key.scan()), key=lambda item: item["key"])


def tables() -> dict[str, list[str]]:
    """Every table's items, to compare before and after a request that must change nothing."""
    from chalicelib.models import ALL_MODELS

    return {model.Meta.table_name: sorted(str(item.attribute_values) for item in model.scan()) for model in ALL_MODELS}
