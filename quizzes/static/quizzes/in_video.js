// In-video questions: the lecture pauses at each question's time; the learner answers (checked on the
// server, which sends back the explanation) or skips, and playback resumes. Nothing here is graded.
(function () {
  "use strict";
  const data = document.getElementById("in-video-questions");
  const box = document.querySelector("[data-in-video]");
  const video = document.querySelector("[data-lecture] video");
  if (!data || !box || !video) return;
  const questions = JSON.parse(data.textContent);
  const prompt = box.querySelector("[data-in-video-prompt]");
  const options = box.querySelector("[data-in-video-options]");
  const result = box.querySelector("[data-in-video-result]");
  const form = box.querySelector("[data-in-video-form]");
  const check = box.querySelector("[data-in-video-check]");
  const skip = box.querySelector("[data-in-video-skip]");
  const resume = box.querySelector("[data-in-video-continue]");
  const baseUrl = box.dataset.checkUrl.replace(/0\/$/, "");
  const csrf = (document.body.getAttribute("hx-headers") || "").match(/"X-CSRFToken":\s*"([^"]+)"/);
  const done = new Set();
  let current = null;

  function show(question) {
    current = question;
    done.add(question.index);
    video.pause();
    prompt.innerHTML = question.prompt_html;
    options.innerHTML = "";
    result.innerHTML = "";
    if (question.options) {
      const type = question.kind === "single" ? "radio" : "checkbox";
      question.options.forEach(function (option) {
        const label = document.createElement("label");
        label.className = "option";
        const input = document.createElement("input");
        input.type = type; input.name = "answer"; input.value = option.id;
        const text = document.createElement("span");
        text.className = "option-text"; text.innerHTML = option.html;
        label.append(input, text);
        options.append(label);
      });
    } else {
      const input = document.createElement("input");
      input.type = "text"; input.name = "answer"; input.className = "answer-input";
      input.setAttribute("aria-label", "Your answer");
      if (question.kind === "numeric") input.inputMode = "decimal";
      options.append(input);
    }
    check.hidden = false; skip.hidden = false; resume.hidden = true;
    box.hidden = false;
    const first = options.querySelector("input");
    if (first) first.focus({ preventScroll: true });
    // On a phone the card opens under the video: bring all of it, buttons included, into view.
    box.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function close() {
    box.hidden = true;
    current = null;
    video.play().catch(function () {});
  }

  video.addEventListener("timeupdate", function () {
    if (current) return;
    const t = video.currentTime;
    const due = questions.find(function (q) { return !done.has(q.index) && t >= q.at && t < q.at + 2; });
    if (due) show(due);
  });
  // Seeking back before a question asks it again.
  video.addEventListener("seeked", function () {
    questions.forEach(function (q) { if (video.currentTime < q.at) done.delete(q.index); });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) return;
    const values = Array.from(form.querySelectorAll("input[name=answer]"))
      .filter(function (input) { return input.type === "text" ? input.value.trim() : input.checked; })
      .map(function (input) { return input.value; });
    if (!values.length) { result.textContent = "Choose or type an answer, or skip."; return; }
    fetch(baseUrl + current.index + "/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf[1] : "" },
      body: JSON.stringify({ answer: values }),
    })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.error) { result.textContent = data.error; return; }
        result.innerHTML = "";
        const verdict = document.createElement("p");
        verdict.className = data.correct ? "verdict verdict-ok" : "verdict verdict-no";
        verdict.textContent = data.correct ? "✓ Correct" : "✗ Not quite";
        const explanation = document.createElement("div");
        explanation.className = "explanation prose";
        explanation.innerHTML = data.explanation_html;
        result.append(verdict, explanation);
        (data.correct_options || []).forEach(function (id) {
          const input = options.querySelector('input[value="' + id + '"]');
          if (input) input.closest(".option").classList.add("correct");
        });
        check.hidden = true; skip.hidden = true; resume.hidden = false;
        resume.focus();
      })
      .catch(function () { result.textContent = "Could not check the answer; you can skip it."; });
  });
  skip.addEventListener("click", close);
  resume.addEventListener("click", close);
})();
