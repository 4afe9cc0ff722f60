// Quiz attempt: a countdown for timed attempts that submits the answers when time runs out.
// The server enforces the limit whatever this script does; it only saves the learner a lost attempt.
(function () {
  "use strict";
  const form = document.querySelector("[data-quiz-form]");
  if (!form) return;
  let submitting = false;
  form.addEventListener("submit", function (event) {
    if (submitting) { event.preventDefault(); return; }  // one submission per attempt
    submitting = true;
    const button = form.querySelector("[data-submit]");
    if (button) { button.disabled = true; button.textContent = "Submitting…"; }
  });
  const left = form.dataset.secondsLeft;
  const value = form.querySelector("[data-timer-value]");
  const timer = form.querySelector("[data-timer]");
  if (left === undefined || !value) return;
  const end = Date.now() + parseInt(left, 10) * 1000;
  function tick() {
    const seconds = Math.max(0, Math.round((end - Date.now()) / 1000));
    const m = Math.floor(seconds / 60), s = seconds % 60;
    value.textContent = m + ":" + String(s).padStart(2, "0");
    if (seconds <= 60) timer.classList.add("timer-low");
    if (seconds === 0) {
      // Time is up: submit what there is, blanks included (the server accepts blanks once the time is up).
      const confirm = document.createElement("input");
      confirm.type = "hidden"; confirm.name = "confirm_unanswered"; confirm.value = "1";
      form.appendChild(confirm);
      if (!submitting) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
      return;
    }
    setTimeout(tick, 250);
  }
  tick();
})();
