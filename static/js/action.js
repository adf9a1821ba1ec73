// An action's page, enhanced: the "after" photo is made smaller on the phone before its
// form sends it, like the audit photos (a bad network carries a few hundred kB, not
// 5 MB), and a second tap on a slow network does not send a form twice (a change would
// come back as "someone changed this action meanwhile"). Without this script the forms
// work the same and the photo is sent as it is.
import { downscale } from "./photo.js";

const forms = [...document.querySelectorAll("form[data-change], form[data-after-photo]")];
const photoForm = document.querySelector("form[data-after-photo]");

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

photoForm?.addEventListener("submit", async (event) => {
  const input = photoForm.querySelector("input[type=file]");
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
