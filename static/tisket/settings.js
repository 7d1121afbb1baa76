// Settings pages: small helpers, no framework. Everything works without them.
(function () {
  "use strict";

  // Show only the transport panel (SMTP or ESP) that the chosen radio needs.
  function syncTransport(section) {
    var checked = section.querySelector("input[name=transport]:checked");
    var value = checked ? checked.value : "default";
    section.querySelectorAll("[data-transport-panel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-transport-panel") !== value;
    });
  }

  function init() {
    document.querySelectorAll("[data-transport]").forEach(function (section) {
      syncTransport(section);
      section.addEventListener("change", function (event) {
        if (event.target.name === "transport") syncTransport(section);
      });
    });

    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.querySelector(button.getAttribute("data-copy"));
        if (!field) return;
        field.focus();
        field.select();
        var done = function () { button.textContent = "Copied"; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, function () {});
        } else {
          button.textContent = "Press Ctrl+C";
        }
      });
    });

    document.querySelectorAll("[data-select-on-focus]").forEach(function (field) {
      field.addEventListener("focus", function () { field.select(); });
    });

    // Escape closes an open confirmation box.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      document.querySelectorAll("details.confirm[open]").forEach(function (d) { d.open = false; });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
