// The console's own script, part one: what every page shares. No framework, no build step; the
// other parts (queue, ticket, keys) are files beside this one, joined into /static/console.js.
"use strict";
window.Promptly = window.Promptly || {};

// A form button with data-confirm asks first (CSP forbids inline onclick handlers).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// One submit per form: a double-click or a second Enter must not post twice (the server also
// refuses a repeated idempotency key; this spares the agent the second round trip).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.submitting === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.submitting = "1";
  window.setTimeout(() => { delete form.dataset.submitting; }, 4000);
});
