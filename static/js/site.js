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
