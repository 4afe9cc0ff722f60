// Shows, as the learner types, how their name will be printed on certificates (the server normalises
// spaces the same way). Without JavaScript the preview shows what was last submitted.
(function () {
  const input = document.querySelector("[data-name-input]");
  const preview = document.querySelector("[data-name-preview]");
  if (!input || !preview) return;
  const fallback = preview.textContent;
  const show = () => {
    const name = input.value.split(/\s+/).filter(Boolean).join(" ");
    preview.textContent = name || fallback;
  };
  input.addEventListener("input", show);
  show();
})();
