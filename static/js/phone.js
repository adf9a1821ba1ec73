// Call your own number: a stopwatch from the moment the call is placed, and one-tap
// controls that fill rings, hold time, transfers and call length (editable afterwards).
import { openAudit, saveExtra, setValue } from "./audit-form.js";

const time = document.getElementById("stopwatch-time");
const log = document.getElementById("stopwatch-log");
const button = (name) => document.querySelector(`[data-call="${name}"]`);
const counter = (name) => document.querySelector(`[data-count="${name}"]`);

const draft = await openAudit();
const call = draft.extra.call ?? {
  startedAt: null, endedAt: null, rings: 0, answered: false, transfers: 0, holdSeconds: 0, holdSince: null,
};

const seconds = (from, to = Date.now()) => Math.max(0, Math.round((to - from) / 1000));
const clock = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
const holdTotal = () => call.holdSeconds + (call.holdSince ? seconds(call.holdSince) : 0);

function render() {
  const running = call.startedAt && !call.endedAt;
  time.textContent = clock(call.startedAt ? seconds(call.startedAt, call.endedAt ?? Date.now()) : 0);
  counter("rings").textContent = call.rings;
  counter("transfers").textContent = call.transfers;
  button("start").hidden = Boolean(call.startedAt);
  button("ring").disabled = !running || call.answered;
  button("answered").disabled = !running || call.answered;
  for (const name of ["hold", "transfer"]) button(name).disabled = !running || !call.answered;
  button("end").disabled = !running;
  const hold = button("hold");
  hold.setAttribute("aria-pressed", String(Boolean(call.holdSince)));
  hold.textContent = call.holdSince ? hold.dataset.on : hold.dataset.off;
}

function record(message) {
  saveExtra("call", call);
  if (message) log.textContent = `${clock(seconds(call.startedAt))} · ${message}`;
  render();
}

function start() {
  if (call.startedAt) return;
  call.startedAt = Date.now();
  record(button("start").textContent.trim());
  button("ring").focus(); // "Start" is gone: keep the keyboard where the call goes on
}

const actions = {
  start,
  ring() {
    call.rings += 1;
    record(`${button("ring").firstChild.textContent.trim()} ${call.rings}`);
  },
  answered() {
    call.answered = true;
    setValue("answered", true);
    setValue("rings_to_answer", call.rings);
    setValue("transfers", 0);
    setValue("hold_seconds", 0);
    record(button("answered").textContent.trim());
  },
  hold() {
    const label = button("hold").textContent.trim();
    if (call.holdSince) {
      call.holdSeconds = holdTotal();
      call.holdSince = null;
    } else {
      call.holdSince = Date.now();
    }
    setValue("hold_seconds", holdTotal());
    record(label);
  },
  transfer() {
    call.transfers += 1;
    setValue("transfers", call.transfers);
    record(`${button("transfer").firstChild.textContent.trim()} ${call.transfers}`);
  },
  end() {
    if (call.holdSince) actions.hold();
    call.endedAt = Date.now();
    if (!call.answered) setValue("answered", false);
    setValue("call_seconds", seconds(call.startedAt, call.endedAt));
    record(button("end").textContent.trim());
  },
};

document.querySelector(".call-controls").addEventListener("click", (event) => {
  const name = event.target.closest("[data-call]")?.dataset.call;
  if (name) actions[name]();
});
document.getElementById("call-link")?.addEventListener("click", start);
render();
setInterval(() => {
  if (call.startedAt && !call.endedAt) time.textContent = clock(seconds(call.startedAt));
}, 1000);
