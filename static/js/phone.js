// Call your own number: a stopwatch from the moment the call is placed, and one-tap
// controls that fill rings, hold time, transfers and call length (editable afterwards).
// Every time is measured from the phone's clock (Date.now()), never by counting ticks: a
// page under the dialler, or a phone asleep, runs no timers, and the page catches up as
// soon as it is seen again. The call (its events too) is kept with the draft.
import { openAudit, saveExtra, setValue } from "./audit-form.js";

const time = document.getElementById("stopwatch-time");
const holdTime = document.getElementById("stopwatch-hold");
const log = document.getElementById("stopwatch-log");
const otherPhone = document.getElementById("other-phone");
const callLink = document.getElementById("call-link");
const button = (name) => document.querySelector(`[data-call="${name}"]`);
const counter = (name) => document.querySelector(`[data-count="${name}"]`);
const LOG_SHOWN = 4; // the last few events stay in sight; the draft keeps them all

const draft = await openAudit();
const call = {
  startedAt: null, endedAt: null, rings: 0, answered: false, transfers: 0, holdSeconds: 0, holdSince: null,
  otherPhone: false, events: [], ...draft.extra.call,
};

const seconds = (from, to = Date.now()) => Math.max(0, Math.round((to - from) / 1000));
const clock = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
const holdTotal = () => call.holdSeconds + (call.holdSince ? seconds(call.holdSince) : 0);
const plural = new Intl.PluralRules(document.documentElement.lang || undefined);

/** What the log says of an event, in the page's language (its wording is in data-* of the log). */
function describe({ kind, count, time: duration }) {
  const key = kind === "answered" ? `answered-${plural.select(count) === "one" ? "one" : "other"}` : kind;
  const wording = log.dataset[key.replace(/-(\w)/g, (_, letter) => letter.toUpperCase())];
  return wording.replace("{count}", count).replace("{time}", clock(duration ?? 0));
}

function renderLog() {
  log.replaceChildren(...call.events.slice(-LOG_SHOWN).map((event) => Object.assign(
    document.createElement("li"), { textContent: `${describe(event)} · ${clock(seconds(call.startedAt, event.at))}` })));
}

/** The clocks, as they are now: called each second, and whenever the page is seen again. */
function renderClocks() {
  time.textContent = clock(call.startedAt ? seconds(call.startedAt, call.endedAt ?? Date.now()) : 0);
  holdTime.hidden = !call.holdSince && call.holdSeconds === 0;
  holdTime.textContent = holdTime.dataset.text.replace("{time}", clock(holdTotal()));
}

function render() {
  const running = call.startedAt && !call.endedAt;
  renderClocks();
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
  // Calling from another phone: no dialler here, Start is the way in.
  if (otherPhone) {
    otherPhone.checked = call.otherPhone;
    callLink.hidden = call.otherPhone;
    document.getElementById("other-phone-help").hidden = !call.otherPhone;
    button("start").classList.toggle("primary", call.otherPhone);
  }
  renderLog();
}

function record(kind, details = {}) {
  call.events.push({ kind, at: Date.now(), ...details });
  saveExtra("call", call);
  render();
}

function start() {
  if (call.startedAt) return;
  call.startedAt = Date.now();
  record("start");
  button("ring").focus(); // "Start" is gone: keep the keyboard where the call goes on
}

const actions = {
  start,
  ring() {
    call.rings += 1;
    record("ring", { count: call.rings });
  },
  answered() {
    call.answered = true;
    setValue("answered", true);
    setValue("rings_to_answer", call.rings);
    setValue("transfers", 0);
    setValue("hold_seconds", 0);
    record("answered", { count: call.rings });
  },
  hold() {
    if (call.holdSince) {
      const held = seconds(call.holdSince);
      call.holdSeconds = holdTotal();
      call.holdSince = null;
      setValue("hold_seconds", call.holdSeconds);
      record("hold-off", { time: held });
    } else {
      call.holdSince = Date.now();
      record("hold-on");
    }
  },
  transfer() {
    call.transfers += 1;
    setValue("transfers", call.transfers);
    record("transfer", { count: call.transfers });
  },
  end() {
    if (call.holdSince) actions.hold();
    call.endedAt = Date.now();
    if (!call.answered) setValue("answered", false);
    setValue("call_seconds", seconds(call.startedAt, call.endedAt));
    record(call.answered ? "end" : "end-unanswered");
  },
};

document.querySelector(".call-controls").addEventListener("click", (event) => {
  const name = event.target.closest("[data-call]")?.dataset.call;
  if (name) actions[name]();
});
callLink?.addEventListener("click", start);
otherPhone?.addEventListener("change", () => {
  call.otherPhone = otherPhone.checked;
  saveExtra("call", call);
  render();
});
render();
setInterval(renderClocks, 1000);
// Back from the dialler (or a sleeping phone): the clocks show the true time at once,
// not at the next tick of a timer the browser held back while the page was hidden.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") renderClocks();
});
window.addEventListener("pageshow", renderClocks);
