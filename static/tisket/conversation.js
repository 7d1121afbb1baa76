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
    form.dataset.sent = "1";  // whatever comes back, no autosave races the reply any more
    window.clearTimeout(draftTimer);
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
            delete form.dataset.sent;
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

  // Live conversation: every 10 s, a GET of what changed since the page's version (304 when
  // nothing did). New messages and notes are added to the stream, the side panel and header
  // line are redrawn; the reply and note boxes are never touched, so typing goes on undisturbed.
  var LIVE_EVERY = 10000;
  function livePoll() {
    var root = $("[data-live]");
    if (!root || document.hidden || !window.fetch) return;
    var url = root.dataset.live + "?after_message=" + encodeURIComponent(root.dataset.lastMessage || "0") +
      "&after_note=" + encodeURIComponent(root.dataset.lastNote || "0");
    fetch(url, {
      credentials: "same-origin", cache: "no-store",
      headers: { "If-None-Match": root.dataset.liveVersion || "" },
    }).then(function (response) {
      if (response.status !== 200) return null;
      var version = response.headers.get("ETag");
      return response.text().then(function (html) { liveApply(root, html, version); });
    }).catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  function liveApply(root, html, version) {
    var part = new DOMParser().parseFromString(html, "text/html");
    var stream = $(".stream", root);
    var added = [];
    $$("[data-live-entries] > li", part).forEach(function (entry) {
      if (!stream || document.getElementById(entry.id)) return;
      var empty = $(".stream-empty", stream);
      if (empty) empty.remove();
      var node = document.importNode(entry, true);
      node.classList.add("is-new");
      stream.appendChild(node);
      added.push(node);
      var number = Number(entry.id.split("-")[1]);
      if (entry.id.indexOf("message-") === 0) {
        root.dataset.lastMessage = String(Math.max(Number(root.dataset.lastMessage || 0), number));
      } else if (entry.id.indexOf("note-") === 0) {
        root.dataset.lastNote = String(Math.max(Number(root.dataset.lastNote || 0), number));
      }
    });
    // Shown here, the new message counts as seen: the reply is no longer held for it.
    var seen = $("#pane-reply input[name=seen]");
    if (seen) seen.value = root.dataset.lastMessage;
    var meta = $("[data-live-meta]", part);
    var here = $(".convo-meta", root);
    if (meta && here) here.innerHTML = meta.innerHTML;
    var panel = $("#side-panel", part);
    var mine = $("#side-panel");
    // A panel the agent is working in (a select open, tags half typed) waits for the next poll.
    if (panel && mine && !mine.contains(document.activeElement)) {
      mine.replaceWith(document.importNode(panel, true));
      if (window.htmx) window.htmx.process($("#side-panel"));
    } else if (panel) {
      return;  // the version stays old: the next poll brings the panel again
    }
    if (version) root.dataset.liveVersion = version;
    var notice = $("[data-live-notice]");
    if (added.length && notice) {
      notice.hidden = false;
      notice.dataset.target = added[0].id;
    }
  }

  document.addEventListener("click", function (event) {
    var jump = event.target.closest("[data-live-jump]");
    if (!jump) return;
    event.preventDefault();
    var notice = $("[data-live-notice]");
    var target = notice && document.getElementById(notice.dataset.target);
    if (target) target.scrollIntoView({ block: "center" });
    if (notice) notice.hidden = true;
  });

  // The reply being typed is kept for this agent a moment after they stop, and restored when
  // they come back; sending it drops it.
  var draftTimer = null;
  function draftSave(now) {
    var area = $("#reply-body");
    var form = area && area.form;
    if (!area || !area.dataset.autosave || !form || form.dataset.sending || form.dataset.sent) return;
    window.clearTimeout(draftTimer);
    var send = function () {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
      data.append("body", area.value);
      var cc = $("#reply-cc");
      data.append("cc", cc ? cc.value : "");
      if (area.dataset.saved === data.get("body") + "\n" + data.get("cc")) return;
      var key = data.get("body") + "\n" + data.get("cc");
      var state = $("[data-draft-state]");
      if (now && navigator.sendBeacon) {
        navigator.sendBeacon(area.dataset.autosave, data);
        area.dataset.saved = key;
        return;
      }
      fetch(area.dataset.autosave, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) return;
          area.dataset.saved = key;
          if (state) state.textContent = area.value.trim() ? "Draft saved" : "";
        }).catch(function () {});
    };
    if (now) send(); else draftTimer = window.setTimeout(send, 1500);
  }
  document.addEventListener("input", function (event) {
    if (event.target.id === "reply-body" || event.target.id === "reply-cc") draftSave(false);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") draftSave(true);
  });

  function start() {
    window.setInterval(livePoll, LIVE_EVERY);
    var area = $("#reply-body");
    var cc = $("#reply-cc");
    if (area) area.dataset.saved = area.value + "\n" + (cc ? cc.value : "");
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
