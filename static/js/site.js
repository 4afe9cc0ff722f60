// The phone menu: a button that shows and hides the main navigation (static/css/site.css hides the
// links behind it only when this script runs, so without JavaScript every link stays on the page).
(function () {
  const toggle = document.querySelector("[data-menu-toggle]");
  const header = document.querySelector(".site-header");
  if (!toggle || !header) return;
  toggle.hidden = false;
  const set = (open) => {
    header.classList.toggle("nav-open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => set(toggle.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.classList.contains("nav-open")) {
      set(false);
      toggle.focus();
    }
  });
})();
// After a notebook submitted from the in-browser editor is saved, its submission page names the draft the
// editor kept in this browser (grading/frontend/editor.js): it is saved now, so it goes.
document.querySelectorAll("[data-draft-saved]").forEach((el) => {
  try {
    window.localStorage.removeItem(el.dataset.draftSaved);
  } catch (error) {
    /* no storage, no draft */
  }
});

// The similar-questions box sends the start of the body with the title (hx-include); trimmed here, in a
// file, because `hx-vals="js:..."` needs eval, which the content security policy refuses.
document.addEventListener("htmx:configRequest", (event) => {
  const limit = Number(event.detail.elt.dataset.includeLimit || 0);
  const params = event.detail.parameters;
  if (!limit || !params) return;
  if (typeof FormData !== "undefined" && params instanceof FormData) {
    const body = params.get("body");
    if (typeof body === "string") params.set("body", body.slice(0, limit));
  } else if (typeof params.body === "string") {
    params.body = params.body.slice(0, limit);
  }
});
