// The playground's little JavaScript: live refresh over server-sent events, the composer, clicks,
// confirm dialogs and modals. Every action goes to the demo server, which signs it as Slack would.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  channel: document.querySelector("[data-channel]").dataset.channel,
  user: localStorage.getItem("iris-demo-user") || $("user").value,
  modal: null,
  open: new Set(),
  asked: 0, // refreshes overlap; only the newest answer is shown
};

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
  if (!answer.ok) showError(answer.error || `HTTP ${response.status}`);
  return answer;
}

function showError(text) {
  $("composer-error").textContent = text;
}

async function refresh() {
  const asked = ++state.asked;
  const query = new URLSearchParams({ channel: state.channel, user: state.user });
  const response = await fetch(`/state?${query}`);
  if (!response.ok || asked !== state.asked) return;
  const data = await response.json();
  if (asked !== state.asked) return;
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.querySelectorAll("details[open]").forEach((d) => state.open.add(d.dataset.thread));
  list.innerHTML = data.messages;
  list.querySelectorAll("details[data-thread]").forEach((d) => {
    if (state.open.has(d.dataset.thread)) d.open = true;
    d.addEventListener("toggle", () => (d.open ? state.open.add(d.dataset.thread) : state.open.delete(d.dataset.thread)));
  });
  if (atBottom) list.scrollTop = list.scrollHeight;
  for (const [channel, count] of Object.entries(data.counts)) {
    const badge = document.querySelector(`[data-count="${channel}"]`);
    if (badge) badge.textContent = count ? String(count) : "";
  }
  showModal(data.modal);
  document.body.dataset.version = String(data.version);
}

function showModal(modal) {
  const dialog = $("modal");
  if (!modal) {
    if (dialog.open) dialog.close();
    state.modal = null;
    return;
  }
  const sameView = state.modal && state.modal.id === modal.id;
  if (sameView && state.modal.body === modal.body) return;
  state.modal = modal;
  $("modal-title").innerHTML = modal.title;
  $("modal-submit").innerHTML = modal.submit;
  $("modal-close").innerHTML = modal.close;
  const typed = sameView ? collectValues() : null; // keep what was typed when only errors changed
  $("modal-body").innerHTML = modal.body;
  if (typed) restoreValues(typed);
  if (!dialog.open) dialog.showModal();
}

function collectValues() {
  const values = {};
  document.querySelectorAll("#modal-body .bk-field").forEach((field) => {
    const block = field.dataset.blockId;
    const action = field.dataset.actionId;
    const type = field.dataset.type;
    values[block] = values[block] || {};
    let value;
    if (type === "static_select") {
      const option = field.options[field.selectedIndex];
      const chosen = option && option.value !== ""; // the prompt option means nothing chosen, as in Slack
      value = { type, selected_option: chosen ? { text: { type: "plain_text", text: option.text }, value: option.value } : null };
    } else if (type === "datepicker") {
      value = { type, selected_date: field.value || null };
    } else if (type === "checkboxes" || type === "radio_buttons") {
      const previous = values[block][action] || { type, selected_options: [] };
      if (field.checked) previous.selected_options.push({ value: field.value });
      if (type === "radio_buttons") {
        value = { type, selected_option: previous.selected_options[0] || null, selected_options: previous.selected_options };
      } else value = previous;
    } else {
      value = { type: "plain_text_input", value: field.value };
    }
    values[block][action] = value;
  });
  return values;
}

function restoreValues(values) {
  document.querySelectorAll("#modal-body .bk-field").forEach((field) => {
    const saved = (values[field.dataset.blockId] || {})[field.dataset.actionId];
    if (saved && saved.type === "plain_text_input") field.value = saved.value;
  });
}

function confirmFirst(confirm) {
  if (!confirm) return Promise.resolve(true);
  const text = (part) => (part && typeof part === "object" ? part.text : part) || "";
  $("confirm-title").textContent = text(confirm.title) || "Are you sure?";
  $("confirm-text").textContent = text(confirm.text);
  $("confirm-ok").textContent = text(confirm.confirm) || "Confirm";
  $("confirm-deny").textContent = text(confirm.deny) || "Cancel";
  const dialog = $("confirm");
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true }));
}

$("messages").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action-id]");
  if (!button) return;
  const confirm = button.dataset.confirm ? JSON.parse(button.dataset.confirm) : null;
  if (!(await confirmFirst(confirm))) return;
  showError("");
  const message = button.closest(".msg");
  await post("/action", {
    channel: state.channel,
    user: state.user,
    message_ts: message ? message.dataset.ts : null,
    action_id: button.dataset.actionId,
    block_id: button.dataset.blockId,
    value: button.dataset.value === undefined ? null : button.dataset.value,
  });
});

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("composer-text");
  const text = input.value.trim();
  if (!text) return;
  showError("");
  const answer = await post("/command", { channel: state.channel, user: state.user, text });
  if (answer.ok) input.value = "";
});

$("modal-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!state.modal) return;
  await post("/submit", { view_id: state.modal.id, user: state.user, values: collectValues() });
});

async function closeModal() {
  if (state.modal) await post("/close", { view_id: state.modal.id });
  $("modal").close();
}

$("modal-close").addEventListener("click", closeModal);
$("modal").addEventListener("cancel", (event) => {
  event.preventDefault(); // Escape: close it the same way, so the page forgets it too
  closeModal();
});

$("user").addEventListener("change", () => {
  state.user = $("user").value;
  localStorage.setItem("iris-demo-user", state.user);
  refresh();
});

$("channels").addEventListener("click", (event) => {
  const link = event.target.closest("[data-channel]");
  if (!link) return;
  event.preventDefault();
  selectChannel(link);
});

function selectChannel(link) {
  document.querySelectorAll("[data-channel]").forEach((a) => a.classList.toggle("current", a === link));
  state.channel = link.dataset.channel;
  $("channel-title").textContent = link.textContent.replace(/\s*\d*\s*$/, "");
  $("channel-purpose").textContent = link.title;
  history.replaceState(null, "", link.getAttribute("href"));
  refresh();
}

$("fire-alert").addEventListener("click", () => post("/alert", { state: "firing" }));
$("resolve-alert").addEventListener("click", () => post("/alert", { state: "resolved" }));

function connect() {
  const events = new EventSource("/events");
  events.onopen = () => ($("live").textContent = "live");
  events.onmessage = () => refresh();
  events.onerror = () => ($("live").textContent = "reconnecting…");
}

$("user").value = state.user;
const fromHash = [...document.querySelectorAll("[data-channel]")].find((a) => a.getAttribute("href") === location.hash);
if (fromHash) selectChannel(fromHash);
else refresh();
connect();
