// Lecture player: interactive transcript, playback speed, resume, and progress saved to the server.
// Progress is the set of played ranges; the server merges them across visits and marks the lecture
// complete at 90 % watched, or when it is played to its end. Works with the native controls; this file only adds to them.
(function () {
  "use strict";
  const root = document.querySelector("[data-lecture]");
  if (!root) return;
  const video = root.querySelector("video");
  const lines = Array.from(document.querySelectorAll("[data-transcript] button"));
  const speed = document.querySelector("[data-speed]");
  const status = document.querySelector("[data-status]");
  const progressUrl = root.dataset.progressUrl;
  const resumeAt = parseFloat(root.dataset.position || "0");
  const csrf = (document.body.getAttribute("hx-headers") || "").match(/"X-CSRFToken":\s*"([^"]+)"/);
  let lastSent = 0;
  let completed = root.dataset.complete === "1";

  // Resume where the learner left off (unless they were at the very end).
  video.addEventListener("loadedmetadata", function () {
    if (resumeAt > 1 && resumeAt < video.duration - 2) video.currentTime = resumeAt;
    const saved = parseFloat(localStorage.getItem("playbackRate") || "1");
    if (speed && saved) { video.playbackRate = saved; speed.value = String(saved); }
  });

  if (speed) {
    speed.addEventListener("change", function () {
      video.playbackRate = parseFloat(speed.value);
      localStorage.setItem("playbackRate", speed.value);
    });
  }

  lines.forEach(function (button) {
    button.addEventListener("click", function () {
      video.currentTime = parseFloat(button.dataset.start) + 0.01;
      video.play().catch(function () {});
    });
  });

  video.addEventListener("timeupdate", function () {
    const t = video.currentTime;
    lines.forEach(function (button) {
      const active = t >= parseFloat(button.dataset.start) && t < parseFloat(button.dataset.end);
      if (active && !button.classList.contains("active")) {
        button.classList.add("active");
        button.setAttribute("aria-current", "true");
        const box = button.closest("[data-transcript]");
        if (box) box.scrollTop = button.offsetTop - box.offsetTop - box.clientHeight / 3;
      } else if (!active && button.classList.contains("active")) {
        button.classList.remove("active");
        button.removeAttribute("aria-current");
      }
    });
    // While playing, save every 5 s. A seek on a paused video (resuming on load, a transcript click
    // before play) is not watching: it must not post, nor replace the "Resuming from" notice.
    if (!video.paused && Date.now() - lastSent > 5000) send();
  });

  function playedRanges() {
    const ranges = [];
    for (let i = 0; i < video.played.length; i++) ranges.push([video.played.start(i), video.played.end(i)]);
    return ranges;
  }

  function send(useBeacon, ended) {
    if (!progressUrl) return;
    lastSent = Date.now();
    const body = JSON.stringify({ position: video.currentTime || 0, ranges: playedRanges(), ended: ended === true });
    const headers = { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf[1] : "" };
    if (useBeacon) {
      fetch(progressUrl, { method: "POST", headers: headers, body: body, keepalive: true, credentials: "same-origin" });
      return;
    }
    fetch(progressUrl, { method: "POST", headers: headers, body: body, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !status) return;
        if (data.complete && !completed) {
          completed = true;
          status.textContent = "✓ Completed";
          root.dataset.complete = "1";
        } else if (!data.complete && !completed) {
          // Answers may arrive out of order: a late one from before the end never undoes "Completed".
          status.textContent = Math.round(data.watched * 100) + "% watched";
        }
      })
      .catch(function () {});
  }

  video.addEventListener("pause", function () { send(); });
  // Reaching the end counts as watched, whatever the speed or the seeks on the way.
  video.addEventListener("ended", function () { send(false, true); });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") send(true); });

  // Keyboard: k/space play-pause, j/l back/forward 5 s (when focus is not in a form field).
  document.addEventListener("keydown", function (event) {
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "select", "textarea", "button", "video"].includes(tag)) return;
    if (event.key === "k") { video.paused ? video.play() : video.pause(); event.preventDefault(); }
    if (event.key === "j") { video.currentTime = Math.max(0, video.currentTime - 5); }
    if (event.key === "l") { video.currentTime = Math.min(video.duration || 0, video.currentTime + 5); }
  });
})();
