// Notebook upload: drag and drop onto the drop zone, a real progress bar (XHR upload events), and the
// server's message shown in place on refusal. Without JavaScript the form posts normally.
(function () {
  "use strict";
  const form = document.querySelector("[data-upload]");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  const zone = form.querySelector(".dropzone");
  const title = form.querySelector(".dropzone-title");
  const box = form.querySelector("[data-progress]");
  const bar = box.querySelector(".progress");
  const fill = bar.querySelector("span");
  const text = form.querySelector("[data-progress-text]");
  const error = form.querySelector("[data-upload-error]");
  const button = form.querySelector("button[type=submit]");

  function showFile() { if (input.files.length) title.textContent = input.files[0].name; }
  input.addEventListener("change", showFile);
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("is-over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("is-over"); });
  });
  zone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; showFile(); }
  });

  form.addEventListener("submit", function (e) {
    if (!input.files.length) return;
    e.preventDefault();
    error.hidden = true;
    box.hidden = false;
    button.disabled = true;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      const pct = Math.round((100 * event.loaded) / event.total);
      fill.style.width = pct + "%";
      bar.setAttribute("aria-valuenow", String(pct));
      text.textContent = pct < 100 ? "Uploading… " + pct + "%" : "Checking the notebook…";
    });
    xhr.addEventListener("load", function () {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch (_) { /* not JSON: a server error page */ }
      if (xhr.status === 201 && data.url) { window.location.assign(data.url); return; }
      if (xhr.responseURL && xhr.responseURL.indexOf("/accounts/login/") !== -1) {
        data.error = "Your session has ended. Log in again, then upload your notebook.";
      }
      box.hidden = true;
      button.disabled = false;
      error.textContent = data.error || "The upload failed (" + xhr.status + "). Please try again.";
      error.hidden = false;
    });
    xhr.addEventListener("error", function () {
      box.hidden = true;
      button.disabled = false;
      error.textContent = "The upload was interrupted. Check your connection and try again.";
      error.hidden = false;
    });
    xhr.send(new FormData(form));
  });
})();
