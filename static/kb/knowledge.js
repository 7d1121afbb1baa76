// The Knowledge panel: insert an article's link or passage into the reply, and tell the ledger.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-kb-insert]");
  if (!button) return;
  const reply = document.getElementById("reply-body");
  if (!reply) return;
  const text = button.dataset.kbInsert;
  const start = reply.selectionStart ?? reply.value.length;
  const end = reply.selectionEnd ?? start;
  const before = reply.value.slice(0, start);
  const gap = before && !before.endsWith("\n") ? "\n\n" : "";
  reply.value = before + gap + text + "\n" + reply.value.slice(end);
  reply.focus();
  const actions = button.closest("[data-used-url]");
  let headers = {};
  try { headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { headers = {}; }
  const body = new URLSearchParams({ article: actions.dataset.article });
  fetch(actions.dataset.usedUrl, { method: "POST", body, headers, credentials: "same-origin" });
});
