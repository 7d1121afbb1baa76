// The queue: keyboard moves, row clicks, selection and bulk actions. No framework.
(function () {
  "use strict";
  const table = () => document.getElementById("queue-table");
  const rows = () => Array.from(document.querySelectorAll("#queue-rows tr.row"));
  let current = -1;

  function focusRow(index) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle("is-current", i === current));
    all[current].scrollIntoView({ block: "nearest" });
  }

  function refreshBulk() {
    const bar = document.querySelector(".bulkbar");
    if (!bar) return;
    const picked = document.querySelectorAll('#queue-rows input[name="thread"]:checked').length;
    bar.hidden = picked === 0;
    bar.querySelector(".selected-count").textContent = picked + " selected";
  }

  document.addEventListener("click", (event) => {
    const row = event.target.closest("#queue-rows tr.row");
    if (row && !event.target.closest("a, input, button, label, select")) {
      const box = row.querySelector('input[name="thread"]');
      if (event.target.closest("td.pick") && box) {
        box.checked = !box.checked;
        refreshBulk();
      } else if (row.dataset.href) {
        window.location.assign(row.dataset.href);
      }
    }
  });

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches(".select-all")) {
      document.querySelectorAll('#queue-rows input[name="thread"]').forEach((box) => {
        box.checked = target.checked;
      });
      refreshBulk();
    } else if (target.matches('#queue-rows input[name="thread"]')) {
      refreshBulk();
    } else if (target.matches(".bulkbar select")) {
      const form = document.getElementById("bulk");
      form.querySelector('input[name="action"]').value = target.dataset.action;
      form.submit();
    } else if (target.matches("#filters select")) {
      target.form.submit();
    }
  });

  // Keys act on the page unless a field takes typing: with a row's box focused (a click
  // ticked it) j/k/x/o/Enter still work; Enter on a link or a button keeps its own meaning.
  const TYPING = [
    "textarea", "select", '[contenteditable]:not([contenteditable="false"])',
    'input:not([type="checkbox"]):not([type="radio"]):not([type="button"]):not([type="submit"])',
  ].join(", ");

  document.addEventListener("keydown", (event) => {
    if (event.metaKey || event.ctrlKey || event.altKey || event.defaultPrevented) return;
    if (event.target.closest(TYPING)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const all = rows();
    if (event.key === "j") { focusRow(current + 1); event.preventDefault(); }
    else if (event.key === "k") { focusRow(current - 1); event.preventDefault(); }
    else if (event.key === "x" && all[current]) {
      const box = all[current].querySelector('input[name="thread"]');
      if (box) { box.checked = !box.checked; refreshBulk(); }
      event.preventDefault();
    } else if ((event.key === "o" || event.key === "Enter") && all[current] && all[current].dataset.href) {
      if (event.key === "Enter" && event.target.closest("a, button, summary, label")) return;
      event.preventDefault();
      window.location.assign(all[current].dataset.href);
    } else if (event.key === "/") {
      const search = document.getElementById("queue-search");
      if (search) { search.focus(); event.preventDefault(); }
    }
  });

  // A swap elsewhere (the views' counts, the new-activity poll) leaves the current row alone:
  // marking a row current before any key was pressed made the first j skip the first row.
  // Rows loaded or replaced in the table keep the current position, within the new count.
  document.addEventListener("htmx:afterSwap", (event) => {
    refreshBulk();
    if (current >= 0 && table() && table().contains(event.target)) focusRow(current);
  });
})();
