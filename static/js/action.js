// The "after" photo of a corrective action is made smaller on the phone before its form
// sends it, like the audit photos: a bad network carries a few hundred kB, not 5 MB.
// Without this script (or DataTransfer) the form simply sends the photo as it is.
import { downscale } from "./photo.js";

const form = document.querySelector("form[data-after-photo]");

if (form && "DataTransfer" in window) {
  const input = form.querySelector("input[type=file]");
  const status = form.querySelector(".photo-status");
  const button = form.querySelector("button[type=submit]");
  let downscaled = false;

  form.addEventListener("submit", async (event) => {
    if (downscaled || !input.files.length) return;
    event.preventDefault();
    button.disabled = true;
    status.textContent = form.dataset.working;
    const original = input.files[0];
    const smaller = await downscale(original);
    if (smaller !== original) {
      const files = new DataTransfer();
      files.items.add(new File([smaller], "after-photo.jpg", { type: "image/jpeg" }));
      input.files = files.files;
    }
    downscaled = true;
    form.submit();
  });

  window.addEventListener("pageshow", () => { // back to this page: ready for another photo
    downscaled = false;
    button.disabled = false;
    status.textContent = "";
  });
}
