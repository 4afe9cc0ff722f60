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
