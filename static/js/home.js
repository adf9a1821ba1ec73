// Home's "On this phone": the audits in the phone's outbox, read from IndexedDB (so they
// show after any reload, with or without signal), each with its checklist, location, when it
// was finished, its photos and its state: waiting to send, or refused with the reason and a
// link to the audit's page, where it is corrected and sent again. The list follows the
// outbox (momento:queue) as audits go. An audit button whose audit waits on the phone says
// so instead of its due state (which the server, not having it yet, still gives), and
// "Done today" once it has gone.
import { pending } from "./outbox.js";
import { counted, inPageLanguage, waitingWords } from "./queue-words.js";
import { auditRefusal } from "./refusals.js";

const section = document.getElementById("on-this-phone");
const { locations, checklists } = JSON.parse(section.dataset.context);
const lang = document.documentElement.lang;
/** The page of an audit's checklist at its location, where a refused one is corrected. */
const auditPage = (body) => `${checklists[body.checklist_id]?.page}?location=${body.location_id}`;

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
}

function row(entry, photos) {
  const { body } = entry;
  const li = section.querySelector("template").content.firstElementChild.cloneNode(true);
  // Named as the page names them; a photo of the audit keeps its names too, should this
  // person no longer see its location (or the checklist be another one).
  const context = photos.find((p) => p.checklistTitle || p.locationName) ?? {};
  const checklist = checklists[body.checklist_id];
  li.querySelector(".phone-audit-title").textContent = checklist?.title ?? inPageLanguage(context.checklistTitle) ?? body.checklist_id;
  li.querySelector(".phone-audit-where").textContent = [
    locations[String(body.location_id)] ?? context.locationName, when(body.submitted_at),
    photos.length ? counted("photos", photos.length) : "",
  ].filter(Boolean).join(" · ");
  const state = li.querySelector(".phone-audit-state");
  if (entry.refused) {
    li.classList.add("refused");
    state.textContent = `${section.dataset.refused} ${auditRefusal(entry.refused)}`;
    const correct = li.querySelector(".phone-audit-correct");
    if (checklist) {
      correct.href = auditPage(body);
      correct.hidden = false;
    }
  } else {
    state.textContent = section.dataset.waiting;
  }
  return li;
}

const buttons = [...document.querySelectorAll(".big-actions a")];
const marked = new Set();

/** A button's due state, or instead `text` (none: its due state again). */
function showMark(button, text) {
  let mark = button.querySelector(".on-this-phone");
  if (text && !mark) {
    mark = Object.assign(document.createElement("span"), { className: "due-state done on-this-phone" });
    button.querySelector(".button-text").append(mark);
  }
  if (mark) {
    mark.textContent = text ?? "";
    mark.hidden = !text;
  }
  for (const due of button.querySelectorAll(".due-state:not(.on-this-phone), .last-done")) due.hidden = Boolean(text);
}

/** Mark the buttons of the audits waiting on the phone; a marked one whose audit has gone
 * (not refused) is done today. */
function markButtons(entries) {
  const pages = (refused) => new Set(entries.filter((e) => Boolean(e.refused) === refused).map((e) => auditPage(e.body)));
  const [waiting, refused] = [pages(false), pages(true)];
  for (const button of buttons) {
    const url = new URL(button.href);
    const page = url.pathname + url.search;
    if (waiting.has(page)) marked.add(page);
    const text = waiting.has(page) ? "doneWaiting" : !refused.has(page) && marked.has(page) ? "doneSent" : null;
    showMark(button, text && section.dataset[text]);
  }
}

function show(state) {
  const { auditEntries = [], photosToSend = [] } = state;
  const photosOf = (entry) => photosToSend.filter((p) => p.auditId === entry.body.id);
  section.querySelector(".phone-audits").replaceChildren(...auditEntries.map((entry) => row(entry, photosOf(entry))));
  section.querySelector("#on-this-phone-count").textContent = waitingWords(state);
  section.hidden = auditEntries.length === 0 && photosToSend.length === 0;
  markButtons(auditEntries);
}

let heard = false;
document.addEventListener("momento:queue", ({ detail }) => {
  heard = true;
  show(detail);
});
pending().then((state) => heard || show(state)).catch(() => {});
