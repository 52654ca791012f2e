// The queue refreshes itself: htmx asks for its rows (#queue-rows, every 15 s, HX-Request) and
// swaps them in. This part keeps that from pulling the list from under the agent: while a row is
// focused or selected (j/k, a click), or text in the list is selected, the rows stay as they are
// and a pill says how many new tickets are waiting ("3 new — refresh"). Every refresh also
// carries the title's counts (unassigned · breaching soon), which go in the tab's title and the
// view tabs, and are kept for the next page load (the page itself does not count: it would cost
// two more DynamoDB reads per queue on every page).
(() => {
  const ROWS = "queue-rows";
  const PILL = "queue-refresh";
  const STORED = "promptly.queue.counts";
  const STALE_MS = 60 * 1000;

  const rows = () => document.getElementById(ROWS);

  function busy(list) {
    if (list.contains(document.activeElement)) return true;
    if (list.querySelector(".ticket-row.is-current, .ticket-row[aria-selected='true']")) return true;  // j/k (50-keys.js)
    const selection = window.getSelection();
    return Boolean(selection && !selection.isCollapsed && list.contains(selection.anchorNode));
  }

  function showCounts(counts) {
    if (!counts || !counts.title) return;
    document.title = counts.title;
    for (const view of ["unassigned", "breaching"]) {
      const badge = document.getElementById("count-" + view);
      if (badge) badge.textContent = counts[view] || "";
    }
  }

  function remember(counts) {
    try {
      window.sessionStorage.setItem(STORED, JSON.stringify({ ...counts, at: Date.now() }));
    } catch (error) {
      // storage refused (private mode, quota): the counts only wait for the next refresh
    }
  }

  function stored() {
    try {
      return JSON.parse(window.sessionStorage.getItem(STORED) || "null");
    } catch (error) {
      return null;
    }
  }

  function fromRequest(event) {
    const ctx = event.detail && event.detail.ctx;
    const source = ctx && ctx.sourceElement;
    return source && (source.id === ROWS || source.id === PILL) ? ctx : null;
  }

  // A hidden tab does not poll: nobody reads it, and every refresh is a request to the desk.
  document.addEventListener("htmx:before:request", (event) => {
    const ctx = fromRequest(event);
    if (ctx && ctx.sourceElement.id === ROWS && document.hidden) event.preventDefault();
  });

  document.addEventListener("htmx:before:swap", (event) => {
    const ctx = fromRequest(event);
    if (!ctx) return;
    if (!ctx.response || ctx.response.status !== 200) {
      event.preventDefault(); // a refusal page never lands inside the table
      return;
    }
    const parsed = new DOMParser().parseFromString("<table>" + ctx.text + "</table>", "text/html");
    const fresh = parsed.getElementById(ROWS);
    const list = rows();
    if (!fresh || !list) return;
    const counts = {
      title: fresh.dataset.title,
      unassigned: fresh.dataset.unassigned,
      breaching: fresh.dataset.breaching,
    };
    showCounts(counts);
    remember(counts);
    if (ctx.sourceElement.id === PILL || !busy(list)) return;
    event.preventDefault();
    const shown = new Set([...list.querySelectorAll(".ticket-row")].map((row) => row.dataset.ticket));
    const added = [...fresh.querySelectorAll(".ticket-row")].filter((row) => !shown.has(row.dataset.ticket)).length;
    const pill = document.getElementById(PILL);
    if (pill && added > 0) {
      pill.textContent = pill.dataset.words.replace("{n}", String(added));
      pill.parentElement.hidden = false;
    }
  });

  document.addEventListener("htmx:after:swap", (event) => {
    const ctx = fromRequest(event);
    const pill = document.getElementById(PILL);
    if (ctx && pill) pill.parentElement.hidden = true;
  });

  document.addEventListener("DOMContentLoaded", () => {
    const list = rows();
    if (!list) return;
    const last = stored();
    showCounts(last);
    if (!last || Date.now() - last.at > STALE_MS) {
      // after htmx has set up the list's triggers (it starts on DOMContentLoaded too)
      window.setTimeout(() => window.htmx && window.htmx.trigger(list, "refresh"), 250);
    }
  });
})();

// On a narrow screen the views and queues scroll sideways: keep the chosen ones in sight.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".views [aria-current], .chips [aria-current]").forEach((chosen) => {
    chosen.scrollIntoView({ block: "nearest", inline: "center" });
  });
});
