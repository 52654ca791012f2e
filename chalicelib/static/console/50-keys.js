// Keyboard shortcuts, Gmail style: single keys, only while no text field has focus and no
// Ctrl/Cmd/Alt is held (Alt+letter types letters on Polish and other layouts; Ctrl/Cmd+letter
// belongs to the browser). Letters are read from event.key, and on a Cyrillic layout from the
// physical key (event.code), so j/k/r/n/t work on Ukrainian and Russian keyboards too. All off
// when the agent turned them off (body data-shortcuts="off"). The list: dialog#keys-help.
"use strict";
(() => {
  const LETTERS = { KeyJ: "j", KeyK: "k", KeyR: "r", KeyN: "n", KeyT: "t" };
  const TEXT_INPUTS = /^(text|search|email|url|tel|password|number|date|datetime-local|month|week|time)$/;
  let chosen = null; // data-href of the current queue row, kept across the list's refreshes

  // What the key means, whatever the layout: "j", "/", "Enter"... or "" for a key we leave alone.
  function meaning(event) {
    const key = event.key;
    if (["Enter", "Escape", "/", "?"].includes(key)) return key;
    if (/^[a-z]$/i.test(key)) return key.toLowerCase();
    if (key.length === 1 && /\p{L}/u.test(key)) return LETTERS[event.code] || ""; // Cyrillic letter
    if (event.code === "Slash" && (key === "." || key === ",")) return event.shiftKey ? "?" : "/"; // ЙЦУКЕН
    return "";
  }

  function typing(target) {
    if (!(target instanceof Element)) return false;
    if (target.closest("textarea, select, [contenteditable]:not([contenteditable='false'])")) return true;
    return target.tagName === "INPUT" && TEXT_INPUTS.test(target.type || "text");
  }

  const rows = () => Array.from(document.querySelectorAll("tr.ticket-row"));
  const currentRow = () => document.querySelector("tr.ticket-row.is-current");

  function mark(row, scroll) {
    for (const other of document.querySelectorAll("tr.ticket-row.is-current")) {
      other.classList.remove("is-current");
      other.setAttribute("aria-selected", "false");
    }
    row.classList.add("is-current");
    row.setAttribute("aria-selected", "true");
    chosen = row.dataset.href || null;
    if (scroll) row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = rows();
    if (all.length === 0) return false;
    const at = all.indexOf(currentRow());
    const next = at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(at + step, 0), all.length - 1);
    mark(all[next], true);
    return true;
  }

  function open() {
    const row = currentRow();
    if (!row || !row.dataset.href) return false;
    window.location.assign(row.dataset.href);
    return true;
  }

  function compose(mode) {
    const radio = document.getElementById(mode === "note" ? "mode-note" : "mode-reply");
    const text = document.getElementById("composer-text");
    if (!radio || !text) return false;
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    text.focus();
    return true;
  }

  function take() {
    const button = document.getElementById("take");
    return Boolean(button && !button.disabled && (button.click(), true));
  }

  function search() {
    const box = document.getElementById("search-q");
    return Boolean(box && (box.focus(), box.select(), true));
  }

  function help() {
    const dialog = document.getElementById("keys-help");
    if (!dialog || dialog.open || typeof dialog.showModal !== "function") return false;
    dialog.showModal();
    return true;
  }

  const ACTIONS = {
    j: () => move(1),
    k: () => move(-1),
    r: () => compose("reply"),
    n: () => compose("note"),
    t: take,
    "/": search,
    "?": help,
  };

  document.addEventListener("keydown", (event) => {
    if (document.body.dataset.shortcuts === "off" || event.defaultPrevented || event.isComposing) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const what = meaning(event);
    const dialog = document.getElementById("keys-help");
    if (dialog && dialog.open) {
      if (what === "Escape") {
        dialog.close();
        event.preventDefault();
      }
      return; // nothing behind the open list of keys moves
    }
    if (!what || what === "Escape" || typing(event.target)) return;
    // Enter on a link, a button or a form control does what it always does.
    if (what === "Enter" && event.target instanceof Element && event.target.closest("a, button, input, summary")) return;
    const act = what === "Enter" ? open : ACTIONS[what];
    if (act && act()) event.preventDefault(); // handled: the key must not also type or scroll
  });

  // The queue refreshes itself (htmx): the row the agent had chosen stays chosen.
  document.addEventListener("htmx:after:settle", () => {
    if (!chosen || currentRow()) return;
    const again = rows().find((row) => row.dataset.href === chosen);
    if (again) mark(again, false);
  });
})();
