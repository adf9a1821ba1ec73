// An action's page, enhanced: the "after" photo is made smaller on the phone before its
// form sends it, like the audit photos (a bad network carries a few hundred kB, not
// 5 MB), and shows as a thumbnail once taken; a second tap on a slow network does not send
// a form twice (a change would come back as "someone changed this action meanwhile"); and
// the note typed for a status move survives sending the photo (the page comes back
// without it). Without this script the forms work the same and the photo is sent as it is.
import { downscale } from "./photo.js";

const forms = [...document.querySelectorAll("form[data-change], form[data-after-photo]")];
const photoForm = document.querySelector("form[data-after-photo]");
const statusNote = document.getElementById("status-note");
const statusForm = statusNote?.form;
// This tab's copy of the note, for this person and this action only.
const userId = document.querySelector('meta[name="momento-user"]')?.content ?? "";
const noteKey = `momento:status-note:${userId}:${location.pathname}`;

/** Let a form go once; false (and nothing sent) when it is already on its way. */
function sendsOnce(form, event) {
  if (form.dataset.sending) {
    event.preventDefault();
    return false;
  }
  form.dataset.sending = "true";
  return true;
}

for (const form of forms.filter((f) => f !== photoForm)) {
  form.addEventListener("submit", (event) => sendsOnce(form, event));
}

// The note goes with the status move it was typed for; a photo sent meanwhile keeps it.
const keptNote = sessionStorage.getItem(noteKey);
if (statusNote && keptNote !== null && !statusNote.value) statusNote.value = keptNote;
sessionStorage.removeItem(noteKey);
statusForm?.addEventListener("submit", () => sessionStorage.removeItem(noteKey));

let previewUrl;
photoForm?.querySelector("input[type=file]").addEventListener("change", (event) => {
  const file = event.target.files[0];
  const preview = photoForm.querySelector(".photo-preview");
  const status = photoForm.querySelector(".photo-status");
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = file ? URL.createObjectURL(file) : undefined;
  preview.hidden = !file;
  if (file) preview.src = previewUrl;
  else preview.removeAttribute("src");
  status.textContent = file ? status.dataset.chosen : "";
});

photoForm?.addEventListener("submit", async (event) => {
  const input = photoForm.querySelector("input[type=file]");
  if (statusNote?.value.trim()) sessionStorage.setItem(noteKey, statusNote.value);
  if (!sendsOnce(photoForm, event) || !("DataTransfer" in window) || !input.files.length) return;
  event.preventDefault();
  photoForm.querySelector(".photo-status").textContent = photoForm.dataset.working;
  const original = input.files[0];
  const smaller = await downscale(original);
  if (smaller !== original) {
    const files = new DataTransfer();
    files.items.add(new File([smaller], "after-photo.jpg", { type: "image/jpeg" }));
    input.files = files.files;
  }
  photoForm.submit(); // no second submit event: it goes as it is now
});

window.addEventListener("pageshow", () => { // back on this page: ready for another change
  for (const form of forms) delete form.dataset.sending;
  const status = photoForm?.querySelector(".photo-status");
  if (status) status.textContent = "";
});
