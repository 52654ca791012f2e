// The composer's files: pick or drop them, and each goes straight to S3 — the desk is asked
// first (POST …/uploads: may this file go to this customer? where to?), which answers with a
// presigned POST or why not, in the agent's words; the bytes never pass through the desk. The
// form then carries the upload keys (`files`), and the answer checks each file again.
"use strict";
(() => {
  const area = document.getElementById("attach");
  const composer = document.getElementById("composer");
  if (!area || !composer || !window.fetch || !window.FormData) {
    return;  // no script, no picker: the composer still sends text
  }
  area.hidden = false;
  const input = document.getElementById("attach-input");
  const keysField = document.getElementById("attach-keys");
  const list = document.getElementById("attach-list");
  const text = document.getElementById("composer-text");
  const csrf = composer.querySelector("input[name=csrf]")?.value || "";
  const words = area.dataset;
  const items = [];  // {name, size, key, state: "uploading" | "ready" | "failed", row}

  const kept = () => items.filter((item) => item.state !== "failed");
  const refresh = () => {
    keysField.value = items.filter((item) => item.state === "ready").map((item) => item.key).join(" ");
    text.required = kept().length === 0;  // a file alone is an answer too
  };

  const say = (item, message, failed) => {
    item.status.textContent = message;
    item.status.setAttribute("role", failed ? "alert" : "status");
    item.row.classList.toggle("failed", Boolean(failed));
  };

  const row = (item) => {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "attach-name";
    name.textContent = item.name;
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    const status = document.createElement("span");
    status.className = "attach-status muted";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "quiet";
    remove.textContent = words.remove;
    remove.addEventListener("click", () => {
      items.splice(items.indexOf(item), 1);
      item.request?.abort();
      li.remove();
      refresh();
    });
    li.append(name, " ", progress, " ", status, " ", remove);
    list.append(li);
    Object.assign(item, { row: li, progress, status });
  };

  // Ask the desk (same origin, CSRF like every console POST); the answer is JSON either way.
  const ask = async (file, before) => {
    const body = new URLSearchParams({
      csrf,
      name: file.name,
      type: file.type || "application/octet-stream",
      size: String(file.size),
      count: String(before.length),
      total: String(before.reduce((sum, item) => sum + item.size, 0)),
    });
    const response = await fetch(area.dataset.uploadUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf },
      body,
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(answer.Message || words.failed);
    }
    return answer.links;
  };

  // The bytes to S3 with the presigned form's fields first and the file last (S3's rule).
  const send = (item, file, form) =>
    new Promise((resolve, reject) => {
      const data = new FormData();
      Object.entries(form.fields).forEach(([name, value]) => data.append(name, value));
      data.append("file", file);
      const request = new XMLHttpRequest();
      item.request = request;
      request.open("POST", form.url);
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) {
          item.progress.value = Math.round((100 * event.loaded) / event.total);
        }
      });
      request.addEventListener("load", () => (request.status < 300 ? resolve() : reject(new Error(words.failed))));
      request.addEventListener("error", () => reject(new Error(words.failed)));
      request.send(data);
    });

  const attach = async (file) => {
    const before = kept();
    const item = { name: file.name, size: file.size, key: "", state: "uploading" };
    items.push(item);
    row(item);
    say(item, words.uploading, false);
    refresh();
    try {
      const links = await ask(file, before);
      item.key = links.upload_key;
      await send(item, file, links.upload_form);
      item.state = "ready";
      item.progress.value = 100;
      say(item, words.done, false);
    } catch (error) {
      item.state = "failed";
      item.progress.remove();
      say(item, error.message, true);
    }
    refresh();
  };

  const attachAll = async (files) => {
    for (const file of files) {
      await attach(file);  // one by one: each ask counts the files before it
    }
  };
  input.addEventListener("change", () => {
    attachAll(Array.from(input.files || []));
    input.value = "";
  });
  ["dragenter", "dragover"].forEach((name) =>
    composer.addEventListener(name, (event) => {
      if (event.dataTransfer?.types?.includes("Files")) {
        event.preventDefault();
        composer.classList.add("dropping");
      }
    }),
  );
  composer.addEventListener("dragleave", () => composer.classList.remove("dropping"));
  composer.addEventListener("drop", (event) => {
    if (event.dataTransfer?.files?.length) {
      event.preventDefault();
      composer.classList.remove("dropping");
      attachAll(Array.from(event.dataTransfer.files));
    }
  });

  // A reply waits for its files: sent half-uploaded, the customer would miss one.
  composer.addEventListener("submit", (event) => {
    if (items.some((item) => item.state === "uploading") && event.submitter?.value !== "note") {
      event.preventDefault();
      event.stopImmediatePropagation();
      window.alert(words.wait);
    }
  }, true);
})();
