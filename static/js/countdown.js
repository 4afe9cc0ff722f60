// The submit form during a cooldown: disabled, with a live countdown to the next allowed submission; at
// zero it turns back on by itself. The server's clock decides (data-now): a wrong clock here does not matter.
(function () {
  "use strict";
  const form = document.querySelector("form[data-ready-at]");
  if (!form) return;
  const fields = form.querySelector("fieldset");
  const left = form.querySelector("[data-countdown-left]");
  const notice = form.querySelector("[data-countdown]");
  const done = form.querySelector("[data-countdown-done]");
  const skew = Date.parse(form.dataset.now) - Date.now();
  const readyAt = Date.parse(form.dataset.readyAt);

  function tick() {
    const seconds = Math.max(0, Math.ceil((readyAt - (Date.now() + skew)) / 1000));
    left.textContent = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
    if (seconds > 0) { window.setTimeout(tick, 250); return; }
    fields.disabled = false;
    form.removeAttribute("data-ready-at");
    notice.hidden = true;
    done.textContent = "You can submit again now.";
  }
  tick();
})();
