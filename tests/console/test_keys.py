"""Keyboard shortcuts: the console's script carries them, every signed-in page carries the list
of keys "?" opens (in the agent's language), and the agent's switch turns them off. How they
behave in a browser is the browser suite's to show; here, what the server ships."""

from __future__ import annotations

import pytest

from chalicelib import assets
from chalicelib.agents import staff
from chalicelib.console import words
from tests.console.pages import get, page, sign_in

OLENA = "olena@promptly.example"
KEYS = ["j", "k", "Enter", "r", "n", "t", "/", "?", "Esc"]
MEANINGS = ["keys_move", "keys_open", "keys_reply", "keys_note", "keys_take", "keys_search", "keys_help"]


def test_the_console_script_carries_the_keys_part(desk):
    response = desk.client.http.get(assets.path(assets.JS))
    script = response.body.decode()

    assert response.status_code == 200 and "/* 50-keys.js */" in script
    for hook in ("tr.ticket-row", "is-current", "aria-selected", "dataset.href", "keys-help", "search-q"):
        assert hook in script, hook
    for hook in ("mode-reply", "mode-note", "composer-text", '"take"'):
        assert hook in script, hook
    for physical in ("KeyJ", "KeyK", "KeyR", "KeyN", "KeyT"):  # Cyrillic layouts: the key, not the letter
        assert physical in script, physical
    assert 'dataset.shortcuts === "off"' in script  # the agent's switch
    assert "event.ctrlKey || event.metaKey || event.altKey" in script  # never Alt+letter, nor Ctrl/Cmd
    assert "is-current" in desk.client.http.get(assets.path(assets.CSS)).body.decode()


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_every_signed_in_page_lists_the_keys_in_the_agents_language(desk, team, language):
    cookie = sign_in(desk, OLENA)
    staff.update_agent(team["olena"]["id"], {"language": language})  # read with the session, each request

    home = page(get(desk, "/console/queue", cookie))

    said = words.catalog(language)
    dialog = home.one("dialog#keys-help")
    assert "open" not in dialog.attributes  # shown by "?", not on arrival
    assert [kbd.text() for kbd in dialog.css("dt kbd")] == KEYS
    assert [dd.text() for dd in dialog.css("dd")] == [said[key] for key in [*MEANINGS, "keys_close_help"]]
    assert home.one("#keys-help-title").text() == said["keys_title"]
    assert said["keys_layouts"] in dialog.text() and "о (j)" in said["keys_layouts"]
    assert dialog.css_first("form[method=dialog] button").text() == said["keys_close"]
    if language != "en":
        assert said["keys_title"] != words.catalog("en")["keys_title"]
    assert home.one("body").attributes["data-shortcuts"] == "on"


def test_the_agents_switch_turns_the_keys_off(desk, team):
    cookie = sign_in(desk, OLENA)
    staff.update_agent(team["olena"]["id"], {"shortcuts": False})

    home = page(get(desk, "/console/queue", cookie))

    assert home.one("body").attributes["data-shortcuts"] == "off"


def test_a_signed_out_page_has_no_list_of_keys(desk):
    assert page(get(desk, "/console/sign-in")).css("dialog#keys-help") == []
