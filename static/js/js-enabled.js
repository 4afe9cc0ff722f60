document.documentElement.classList.add("js"); // CSS collapses what site.js will enhance
