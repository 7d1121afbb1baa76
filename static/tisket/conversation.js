// The conversation page: reply/note tabs, keyboard shortcuts, the "replying" flag that the
// presence heartbeat sends, and macros. No eval, no inline handlers: htmx does the requests.
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function composer() { return $("#reply"); }

  function showTab(name, focus) {
    var box = composer();
    if (!box) return;
    var pane = $("#pane-" + name);
    if (!pane) return;
    box.dataset.tab = name;
    $$(".composer-tab", box).forEach(function (tab) {
      tab.setAttribute("aria-selected", tab.dataset.tab === name ? "true" : "false");
    });
    $$(".pane", box).forEach(function (p) { p.hidden = p !== pane; });
    if (focus) {
      var area = $("textarea", pane);
      if (area) area.focus();
    }
  }

  // The reply box's text tells the others "X is replying": flip the flag and ping at once.
  var typing = null;
  function updateTyping() {
    var area = $("#reply-body");
    var flag = $("#typing-flag");
    if (!area || !flag) return;
    var now = area.value.trim() ? "1" : "0";
    if (now === typing) return;
    var first = typing === null;
    typing = now;
    flag.value = now;
    if (!first) document.body.dispatchEvent(new CustomEvent("typing-changed"));
  }

  function insertText(area, text) {
    if (!area || !text) return;
    var start = area.selectionStart || 0;
    var end = area.selectionEnd || 0;
    var before = area.value.slice(0, start);
    var after = area.value.slice(end);
    var glue = before && !/\n$/.test(before) ? "\n\n" : "";
    area.value = before + glue + text + after;
    var caret = (before + glue + text).length;
    area.focus();
    area.setSelectionRange(caret, caret);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function isTypingTarget(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest(".composer-tab");
    if (tab) {
      showTab(tab.dataset.tab, true);
      return;
    }
    var button = event.target.closest("[data-macro]");
    if (!button) return;
    if (button.dataset.macro === "discard") {
      setPending("", "");
      return;
    }
    var select = $("#macro-select");
    var option = select && select.selectedOptions[0];
    if (!option || !option.value) {
      if (select) select.focus();
      return;
    }
    showTab("reply", false);
    insertText($("#reply-body"), option.dataset.body);
    // Applying changes nothing yet: the macro's actions go with the reply, when it is sent.
    if (button.dataset.macro === "apply") setPending(option.value, option.dataset.pending || "");
    select.value = "";
  });

  function setPending(id, text) {
    var input = $("[data-macro-id]");
    var line = $("[data-macro-pending]");
    if (!input || !line) return;
    input.value = text ? id : "";
    $("[data-macro-pending-text]", line).textContent = text;
    line.hidden = !text;
  }

  // A reply the server refuses (a bad Cc, a file too large) keeps all that was typed and
  // attached: the form is sent in the background and only the error comes back into the page.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "pane-reply" || !window.fetch || !window.FormData || form.dataset.sending) return;
    event.preventDefault();
    var data = new FormData(form);
    var submitter = event.submitter;
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    form.dataset.sending = "1";
    fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-Reply-Fetch": "1" },
    })
      .then(function (response) {
        if (response.status === 204 && response.headers.get("X-Location")) {
          var next = new URL(response.headers.get("X-Location"), window.location.href);
          var here = window.location;
          if (next.pathname === here.pathname && next.search === here.search) {
            // Only the anchor differs: the browser would scroll, not load the page anew.
            here.hash = next.hash;
            here.reload();
          } else {
            here.assign(next.href);
          }
          return null;
        }
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var error = page.querySelector("#reply .form-error");
          if (response.status === 400 && error) {
            var shown = $("[data-reply-error]");
            if (!shown) {
              shown = document.createElement("div");
              shown.className = "form-error";
              shown.setAttribute("role", "alert");
              shown.dataset.replyError = "1";
              form.parentNode.insertBefore(shown, form);
            }
            shown.textContent = error.textContent;
            var key = page.querySelector("#pane-reply input[name=idempotency_key]");
            if (key) form.querySelector("input[name=idempotency_key]").value = key.value;
            delete form.dataset.sending;
            return;
          }
          // Anything else (a message arrived meanwhile, a conflict): the page as the server drew it.
          document.open();
          document.write(html);
          document.close();
        });
      })
      .catch(function () {
        delete form.dataset.sending;
        form.submit();
      });
  });

  // "@" in a note offers the members by name; Enter, Tab or a click writes their handle.
  var MENTION_AT = /(^|[^\w.])@([\w.+-]*)$/;
  function mentionPeople(box) {
    var source = document.getElementById(box.dataset.mentions);
    return source ? JSON.parse(source.textContent) : [];
  }
  function mentionQuery(box) {
    var found = MENTION_AT.exec(box.value.slice(0, box.selectionStart));
    return found ? found[2].toLowerCase() : null;
  }
  function mentionShow(box) {
    var list = $("#mention-list");
    var query = mentionQuery(box);
    if (!list) return;
    list.textContent = "";
    if (query === null) { list.hidden = true; return; }
    mentionPeople(box).filter(function (p) {
      return p.handle.toLowerCase().indexOf(query) === 0 ||
        (" " + p.name.toLowerCase()).indexOf(" " + query) !== -1;
    }).slice(0, 6).forEach(function (p, i) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.dataset.handle = p.handle;
      item.setAttribute("aria-selected", i === 0 ? "true" : "false");
      item.textContent = p.name + " ";
      var handle = document.createElement("span");
      handle.className = "muted";
      handle.textContent = "@" + p.handle;
      item.appendChild(handle);
      list.appendChild(item);
    });
    list.hidden = !list.children.length;
  }
  function mentionPick(box, handle) {
    var before = box.value.slice(0, box.selectionStart).replace(/@[\w.+-]*$/, "@" + handle + " ");
    var after = box.value.slice(box.selectionStart);
    box.value = before + after;
    box.selectionStart = box.selectionEnd = before.length;
    $("#mention-list").hidden = true;
    box.focus();
  }
  document.addEventListener("input", function (event) {
    if (event.target.dataset && event.target.dataset.mentions) mentionShow(event.target);
  });
  document.addEventListener("mousedown", function (event) {
    var item = event.target.closest("#mention-list [role=option]");
    if (!item) return;
    event.preventDefault();
    mentionPick($("#note-body"), item.dataset.handle);
  });
  document.addEventListener("keydown", function (event) {
    var list = $("#mention-list");
    if (!list || list.hidden || event.target.id !== "note-body") return;
    var items = Array.prototype.slice.call(list.children);
    var current = items.findIndex(function (i) { return i.getAttribute("aria-selected") === "true"; });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var next = (current + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      items.forEach(function (item, i) { item.setAttribute("aria-selected", i === next ? "true" : "false"); });
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      event.stopImmediatePropagation();
      mentionPick(event.target, items[Math.max(current, 0)].dataset.handle);
    } else if (event.key === "Escape") {
      list.hidden = true;
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && target.matches("[data-composer]")) {
      var form = target.form;
      if (form) {
        event.preventDefault();
        var send = $("[data-send]", form);
        if (form.requestSubmit) form.requestSubmit(send || undefined); else form.submit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(target)) return;
    if (event.key === "r" && $("#pane-reply")) { event.preventDefault(); showTab("reply", true); }
    if (event.key === "n" && $("#pane-note")) { event.preventDefault(); showTab("note", true); }
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "reply-body") updateTyping();
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "file") return;
    var out = $("[data-files]", input.form || document);
    if (!out) return;
    var files = Array.prototype.slice.call(input.files);
    var total = files.reduce(function (sum, f) { return sum + f.size; }, 0);
    var max = Number(input.dataset.maxBytes || 0);
    var tooLarge = max && total > max;
    var message = "Too large: " + (total / 1048576).toFixed(1) + " MB; at most " +
      (max / 1048576).toFixed(1) + " MB per reply.";
    input.setCustomValidity(tooLarge ? message : "");
    out.classList.toggle("is-error", !!tooLarge);
    out.textContent = tooLarge ? message : files.map(function (f) { return f.name; }).join(", ");
  });

  // Errors of the side panel (400, 403, 409) come back as the panel with its message: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 400 || status === 403 || status === 409) && event.detail.target &&
        event.detail.target.id === "side-panel") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    var holder = $("#macro-reply");
    if (holder && holder.dataset.reply) {
      insertText($("#reply-body"), holder.dataset.reply);
      holder.dataset.reply = "";
    }
  });

  function start() {
    updateTyping();
    var box = composer();
    if (box && box.dataset.tab) showTab(box.dataset.tab, false);
    // A held reply: bring the message that arrived meanwhile into view.
    var fresh = $(".msg.is-new");
    if (fresh) fresh.scrollIntoView({ block: "center" });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
