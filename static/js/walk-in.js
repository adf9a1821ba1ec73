// The five-second walk-in: step out, tap "I'm walking in", just look for five seconds, score.
import { openAudit, setStage } from "./audit-form.js";

const intro = document.getElementById("walk-in-intro");
const countdown = document.getElementById("countdown");
const number = countdown.querySelector(".countdown-number");
const form = document.getElementById("audit-form");

function showChecklist() {
  intro.hidden = true;
  countdown.hidden = true;
  form.hidden = false;
}

function runCountdown() {
  let left = Number(number.dataset.seconds);
  number.textContent = left;
  intro.hidden = true;
  countdown.hidden = false;
  setStage("looking");
  const tick = setInterval(() => {
    left -= 1;
    if (left > 0) {
      number.textContent = left;
      return;
    }
    clearInterval(tick);
    setStage("checklist");
    showChecklist();
    form.querySelector("textarea, input").focus();
  }, 1000);
}

document.addEventListener("momento:correcting", showChecklist);
// A tap on "I'm walking in" counts even while the draft is still being opened (IndexedDB
// can take a moment on a slow phone): the countdown starts as soon as the draft is there.
const opening = openAudit();
document.getElementById("start-walk-in").addEventListener("click", () => opening.then(runCountdown), { once: true });
const draft = await opening;
if (draft.stage === "checklist" || draft.stage === "looking") showChecklist();
else form.hidden = true;
