// Colours and sizes that come from data: the Content-Security-Policy allows no
// style attribute, so they are set through the DOM, on load and after each swap.
(function () {
  "use strict";
  function each(root, selector, fn) {
    if (root.matches && root.matches(selector)) fn(root);
    root.querySelectorAll(selector).forEach(fn);
  }
  function apply(root) {
    each(root, "[data-color]", function (el) {
      el.style.background = el.dataset.color;
    });
    each(root, "[data-h]", function (el) {
      el.style.setProperty("--h", el.dataset.h + "px");
      el.style.setProperty("--h-narrow", el.dataset.hNarrow + "px");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { apply(document); });
  document.addEventListener("htmx:load", function (event) { apply(event.target); });
})();
