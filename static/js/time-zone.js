// The learner's time zone, from the browser, on a first visit: remembered in a cookie (visitors) and,
// for a signed-in learner who has not chosen one, stored on their profile. Their choice wins after that.
(function () {
  "use strict";
  let zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  if (!zone) return;
  if (!document.cookie.split("; ").some(function (c) { return c === "tz=" + encodeURIComponent(zone); })) {
    document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
  }
  const body = document.body;
  const url = body && body.dataset.timeZoneUrl;
  if (!url) return;
  const csrf = (body.getAttribute("hx-headers") || "").match(/"X-CSRFToken":\s*"([^"]+)"/);
  fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": csrf ? csrf[1] : "" },
    body: "time_zone=" + encodeURIComponent(zone),
    credentials: "same-origin",
  }).catch(function () {});
})();
