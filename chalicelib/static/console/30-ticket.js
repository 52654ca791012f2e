// The ticket page: the composer's Reply/Note switch, Ctrl/Cmd+Enter to send, canned replies,
// the "replying" presence while a draft is open, a draft kept in this tab until it is sent, and
// "urgent needs its reason". Nothing here is needed to work the ticket: every form posts without it.
"use strict";
(() => {
  const composer = document.getElementById("composer");
  if (!composer) {
    return;
  }
  const text = document.getElementById("composer-text");
  const beat = document.getElementById("presence-beat");
  const presenceMode = document.getElementById("presence-mode");
  const ticket = (document.querySelector("[data-ticket]") || {}).dataset?.ticket || "";
  const draftKey = "promptly-draft:" + ticket;

  const mode = () => (document.getElementById("mode-note")?.checked ? "note" : "reply");

  // Reply or Note recolours the whole composer and shows that mode's buttons.
  const showMode = () => {
    const reply = document.getElementById("mode-reply");
    if (reply && reply.disabled && reply.checked) {  // not theirs to answer (a key may have chosen it): a note
      document.getElementById("mode-note").checked = true;
    }
    composer.classList.toggle("mode-note", mode() === "note");
    composer.classList.toggle("mode-reply", mode() === "reply");
  };
  composer.addEventListener("change", (event) => {
    if (event.target.name === "mode") {
      showMode();
      save();
    }
  });

  // Ctrl+Enter (Cmd+Enter on a Mac) sends with the mode's own first button.
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey) {
      event.preventDefault();
      const button = composer.querySelector(mode() === "note" ? "button.add-note" : "button.send");
      if (button && (text.value.trim() || document.getElementById("attach-keys")?.value)) {  // a file alone goes too
        composer.requestSubmit(button);
      }
    }
  });

  // A canned reply goes in where the cursor is.
  const picker = document.getElementById("canned-picker");
  document.getElementById("canned-insert")?.addEventListener("click", () => {
    const chosen = picker.selectedOptions[0];
    if (!chosen || !chosen.dataset.text) {
      return;
    }
    const start = text.selectionStart ?? text.value.length;
    const end = text.selectionEnd ?? text.value.length;
    text.setRangeText(chosen.dataset.text, start, end, "end");
    picker.value = "";
    text.focus();
    text.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // Presence: "replying" while the composer has text or focus; a change is told at once (one
  // extra beat at most every few seconds), the rest rides on the page's 10-second heartbeat.
  let told = 0;
  const tellPresence = () => {
    if (!presenceMode) {
      return;
    }
    const now = text.value.trim() || document.activeElement === text ? "replying" : "viewing";
    if (presenceMode.value !== now) {
      presenceMode.value = now;
      if (beat && window.htmx && Date.now() - told > 3000) {
        told = Date.now();
        window.htmx.trigger(beat, "beat");
      }
    }
  };
  text.addEventListener("focus", tellPresence);
  text.addEventListener("blur", tellPresence);

  // The draft is kept in this tab (sessionStorage) until it is sent: a reload or a wrong click
  // does not lose it. The server keeps it too whenever a send is held or refused.
  const save = () => {
    try {
      if (text.value.trim()) {
        sessionStorage.setItem(draftKey, JSON.stringify({ text: text.value, mode: mode() }));
      } else {
        sessionStorage.removeItem(draftKey);
      }
    } catch (_) { /* storage off: the server still keeps held drafts */ }
  };
  text.addEventListener("input", () => {
    save();
    tellPresence();
  });
  composer.addEventListener("submit", () => {
    try { sessionStorage.removeItem(draftKey); } catch (_) { /* nothing kept */ }
  });
  try {
    const kept = JSON.parse(sessionStorage.getItem(draftKey) || "null");
    if (kept && !text.value) {
      text.value = kept.text;
      const radio = document.getElementById(kept.mode === "note" ? "mode-note" : "mode-reply");
      if (radio && !radio.disabled) {
        radio.checked = true;
      }
    }
  } catch (_) { /* nothing kept */ }
  showMode();
  tellPresence();

  // Urgent asks for its reason before the form goes.
  const priority = document.getElementById("priority-select");
  const reason = document.getElementById("priority-reason");
  const needReason = () => {
    if (priority && reason) {
      reason.required = priority.value === "urgent";
    }
  };
  priority?.addEventListener("change", needReason);
  needReason();
})();
