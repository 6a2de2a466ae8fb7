/**
 * The web inbox's script, as a string so the binary serves it itself (`deno run <URL>` and
 * `deno compile` need no asset files). Plain ES2020 DOM code, no framework, no template
 * literals (this file is one). Untrusted text only ever goes into `textContent`; HTML
 * bodies only into a sandboxed iframe whose source is served with a no-script CSP.
 *
 * @module
 */

import { VIEW_JS } from "./app_view.ts";

/** `/app.js`: one function scope; the message view's functions come from `app_view.ts`. */
export const APP_JS = String.raw`"use strict";
(function () {
  var state = {
    users: [],
    user: null,        // null: all users
    mailbox: null,     // null: every mailbox of the scope
    messages: [],
    selected: -1,
    open: null,        // the message JSON on display
    tab: null,
    search: "",
    remoteImages: {},  // message id -> true: this message's remote images are shown
  };
  var TABS = ["HTML", "Text", "Headers", "Raw", "Attachments", "Links", "HTML source"];
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, props, children) {
    var node = document.createElement(tag);
    if (props) {
      for (var key in props) {
        if (key === "text") node.textContent = props[key];
        else if (key === "class") node.className = props[key];
        else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), props[key]);
        else node.setAttribute(key, props[key]);
      }
    }
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function api(path, init) {
    return fetch(path, init).then(function (response) {
      if (!response.ok && response.status !== 404) throw new Error(path + ": " + response.status);
      return response;
    });
  }

  function messagePath(id, suffix) {
    return "/messages/" + encodeURIComponent(id) + (suffix || "");
  }

  function formatDate(iso) {
    var date = new Date(iso);
    var today = new Date();
    return date.toDateString() === today.toDateString()
      ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
      : date.toLocaleString();
  }

  // ---- users and mailboxes ----

  var usersTimer = null;
  function refreshUsersSoon() {
    if (usersTimer) return;
    usersTimer = setTimeout(function () { usersTimer = null; refreshUsers(); }, 80);
  }

  function refreshUsers() {
    return api("/users").then(function (r) { return r.json(); }).then(function (users) {
      state.users = users;
      if (state.user && !users.some(function (u) { return u.user === state.user; })) {
        selectScope(null, null);
      }
      renderUsers();
    }).catch(showError);
  }

  function scopeButton(label, count, user, mailbox, extraClass) {
    var current = state.user === user && state.mailbox === mailbox;
    return el("button", {
      type: "button",
      class: extraClass || "",
      "aria-current": current ? "true" : "false",
      "data-user": user || "",
      "data-mailbox": mailbox || "",
      onclick: function () { selectScope(user, mailbox); },
    }, [el("span", { text: label }), el("span", { class: "count", text: count ? String(count) : "" })]);
  }

  function renderUsers() {
    var nav = $("users");
    nav.textContent = "";
    var total = state.users.reduce(function (sum, u) { return sum + u.messages; }, 0);
    nav.appendChild(scopeButton("All messages", total, null, null, "all"));
    state.users.forEach(function (user) {
      var list = el("ul", null, user.mailboxes.map(function (box) {
        var label = box.name + (box.unseen ? " \u00b7 " + box.unseen + " new" : "");
        return el("li", null, [scopeButton(label, box.messages, user.user, box.name)]);
      }));
      nav.appendChild(el("div", { class: "user" }, [
        el("div", { class: "user-name", text: user.user }),
        list,
      ]));
    });
  }

  function scopes() {
    var out = [[null, null]];
    state.users.forEach(function (u) {
      u.mailboxes.forEach(function (b) { out.push([u.user, b.name]); });
    });
    return out;
  }

  function stepScope(delta) {
    var all = scopes();
    var index = all.findIndex(function (s) { return s[0] === state.user && s[1] === state.mailbox; });
    var next = all[(index + delta + all.length) % all.length];
    selectScope(next[0], next[1]);
  }

  function selectScope(user, mailbox) {
    state.user = user;
    state.mailbox = mailbox;
    state.selected = -1;
    $("list-title").textContent = user ? user + " / " + mailbox : "All messages";
    if (!state.open) setHash(hashFor(user, mailbox, null));
    renderUsers();
    refreshMessages();
  }

  // ---- the address: #/user/mailbox opens a mailbox, #/user/mailbox/uid a message ----

  function hashFor(user, mailbox, uid) {
    if (!user) return "#/";
    var hash = "#/" + encodeURIComponent(user) + "/" + encodeURIComponent(mailbox);
    return uid ? hash + "/" + uid : hash;
  }

  // A new history entry, so the browser's Back returns to the previous message or the list.
  function setHash(hash) {
    if (location.hash !== hash && !(hash === "#/" && location.hash === "")) history.pushState(null, "", hash);
  }

  function parseHash() {
    var parts = location.hash.replace(/^#\/?/, "").split("/");
    try {
      parts = parts.map(decodeURIComponent);
    } catch (error) {
      return { user: null, mailbox: null, uid: null };
    }
    if (parts.length < 2 || !parts[0] || !parts[1]) return { user: null, mailbox: null, uid: null };
    var uid = /^[0-9]+$/.test(parts[2] || "") ? parts[2] : null;
    return { user: parts[0], mailbox: parts[1], uid: uid };
  }

  // Shows what the address names: on load, on Back/Forward and on a followed link.
  function route() {
    var target = parseHash();
    if (target.uid) {
      var id = target.user + ":" + target.mailbox + ":" + target.uid;
      var inScope = !state.user || (state.user === target.user && state.mailbox === target.mailbox);
      if (!inScope) selectScope(target.user, target.mailbox);
      if (!state.open || state.open.id !== id) openMessage(id);
      return;
    }
    if (state.open) closeView();
    if (target.user !== state.user || target.mailbox !== state.mailbox) selectScope(target.user, target.mailbox);
  }

  // ---- message list ----

  function listQuery() {
    var params = new URLSearchParams();
    if (state.user) params.set("user", state.user);
    if (state.mailbox) params.set("mailbox", state.mailbox);
    // The query box's text goes to the server as it is: one parser (lib/http/query.ts).
    if (state.search) params.set("q", state.search);
    var text = params.toString();
    return "/messages" + (text ? "?" + text : "");
  }

  var listGeneration = 0;
  // Live changes (/events) since the list request in flight went out; null while none is. Its
  // answer may have been made before them: mail added since is kept on top, mail expunged since
  // is left out.
  var sinceRequest = null;
  function refreshMessages() {
    var generation = ++listGeneration;
    sinceRequest = { added: [], removed: [] };
    return fetch(listQuery()).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body && body.error || String(r.status));
        return body;
      });
    }).then(function (messages) {
      if (generation !== listGeneration) return;
      var since = sinceRequest;
      sinceRequest = null;
      messages = messages.filter(function (m) { return since.removed.indexOf(m.id) < 0; });
      since.added.forEach(function (added) {
        if (!messages.some(function (m) { return m.id === added.id; })) messages.unshift(added);
      });
      $("search").removeAttribute("aria-invalid");
      var openId = state.open && state.open.id;
      state.messages = messages;
      state.selected = messages.findIndex(function (m) { return m.id === openId; });
      renderMessages();
    }).catch(function (error) {
      if (generation !== listGeneration) return;
      sinceRequest = null;
      $("search").setAttribute("aria-invalid", "true");
      showError(error);
    });
  }

  function inScope(message) {
    if (state.user && message.user !== state.user) return false;
    if (state.mailbox && message.mailbox !== state.mailbox) return false;
    return true;
  }

  function row(message, index) {
    var classes = [];
    if (message.flags.indexOf("\\Seen") < 0) classes.push("unseen");
    if (message.fresh) classes.push("fresh");
    return el("li", {
      role: "option",
      id: "msg-" + index,
      class: classes.join(" "),
      "data-id": message.id,
      "aria-selected": index === state.selected ? "true" : "false",
      onclick: function () { select(index, true); },
    }, [
      el("span", { class: "from", text: message.from || "(no sender)" }),
      el("span", { class: "date", text: formatDate(message.internalDate) }),
      el("span", { class: "subj", text: (state.user ? "" : message.user + " \u00b7 ") + (message.subject || "(no subject)") }),
    ]);
  }

  function renderMessages() {
    var list = $("messages");
    list.textContent = "";
    state.messages.forEach(function (message, index) { list.appendChild(row(message, index)); });
    $("empty").hidden = state.messages.length > 0;
    if (state.selected >= 0) list.setAttribute("aria-activedescendant", "msg-" + state.selected);
    else list.removeAttribute("aria-activedescendant");
  }

  function select(index, openIt) {
    if (index < 0 || index >= state.messages.length) return;
    state.selected = index;
    renderMessages();
    var node = $("msg-" + index);
    if (node) node.scrollIntoView({ block: "nearest" });
    if (openIt) openMessage(state.messages[index].id);
  }

` + VIEW_JS + String.raw`
  function resetAll() {
    if (!confirm("Reset the server? Every message and run-time user is deleted, and chaos rules go back to the startup ones.")) return;
    api("/reset", { method: "POST" }).catch(showError);
  }

  // ---- live updates ----

  var source = null;
  function connect() {
    source = new EventSource("/events");
    source.addEventListener("ready", function () {
      setStatus("live", true);
      refreshUsers();
      refreshMessages();
    });
    source.addEventListener("message.added", function (e) {
      var data = JSON.parse(e.data);
      refreshUsersSoon();
      if (!inScope(data.message)) return;
      if (state.search) return refreshMessagesSoon();
      // Injected with a date in the past: its place is further down, as the server orders.
      var top = state.messages[0];
      if (top && Date.parse(data.message.internalDate) < Date.parse(top.internalDate)) {
        return refreshMessagesSoon();
      }
      // Newest first: new mail goes on top, and the selection stays on its message.
      data.message.fresh = true;
      state.messages.unshift(data.message);
      if (sinceRequest) sinceRequest.added.push(data.message);
      if (state.selected >= 0) state.selected++;
      renderMessages();
    });
    source.addEventListener("flags.changed", function (e) {
      var data = JSON.parse(e.data);
      refreshUsersSoon();
      data.changes.forEach(function (change) {
        state.messages.forEach(function (m) { if (m.id === change.id) m.flags = change.flags; });
        if (state.open && state.open.id === change.id) { state.open.flags = change.flags; renderMeta(); }
      });
      renderMessages();
    });
    source.addEventListener("message.expunged", function (e) {
      refreshUsersSoon();
      var ids = JSON.parse(e.data).ids;
      if (sinceRequest) sinceRequest.removed = sinceRequest.removed.concat(ids);
      removeIds(ids);
    });
    ["user.created", "mailbox.created", "mailbox.deleted", "mailbox.renamed"].forEach(function (type) {
      source.addEventListener(type, function () { refreshUsersSoon(); });
    });
    source.addEventListener("reset", function () {
      closeView();
      state.user = null;
      state.mailbox = null;
      $("list-title").textContent = "All messages";
      setHash("#/");
      refreshUsers();
      refreshMessages();
    });
    source.addEventListener("overflow", function () { setStatus("catching up\u2026", false); });
    source.onerror = function () { setStatus("reconnecting\u2026", false); };
  }

  var messagesTimer = null;
  function refreshMessagesSoon() {
    if (messagesTimer) return;
    messagesTimer = setTimeout(function () { messagesTimer = null; refreshMessages(); }, 100);
  }

  function setStatus(text, live) {
    var status = $("status");
    status.textContent = text;
    status.className = "status" + (live ? " live" : "");
  }

  function showError(error) {
    setStatus(String(error && error.message || error), false);
  }

  // ---- keyboard ----

  function onKey(event) {
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA");
    if (typing) {
      if (event.key === "Escape") { target.blur(); $("messages").focus(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key;
    var handled = true;
    if (key === "/") $("search").focus();
    else if (key === "j" || key === "ArrowDown") select(Math.min(state.selected + 1, state.messages.length - 1), true);
    else if (key === "k" || key === "ArrowUp") select(Math.max(state.selected - 1, 0), true);
    else if (key === "Enter" && state.selected >= 0) openMessage(state.messages[state.selected].id);
    else if (key === "Delete" || key === "#") deleteOpen();
    else if (key >= "1" && key <= "7" && state.open) showTab(TABS[Number(key) - 1]);
    else if (key === "u" && state.open) toggleSeen();
    else if (key === "[") stepScope(-1);
    else if (key === "]") stepScope(1);
    else if (key === "R") resetAll();
    else if (key === "?") toggleHelp();
    else if (key === "Escape" && state.open) goBack();
    else handled = false;
    if (handled) event.preventDefault();
  }

  // On a narrow screen the open message covers the list: back to it, where the message was.
  function goBack() {
    closeView();
    $("messages").focus();
  }

  function toggleHelp() {
    var help = $("help");
    help.hidden = !help.hidden;
    $("help-toggle").setAttribute("aria-expanded", help.hidden ? "false" : "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var searchTimer = null;
    $("search").addEventListener("input", function (event) {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () {
        state.search = event.target.value.trim();
        refreshMessages();
      }, 200);
    });
    $("reset").addEventListener("click", resetAll);
    $("delete").addEventListener("click", deleteOpen);
    $("seen").addEventListener("click", toggleSeen);
    window.addEventListener("hashchange", route);
    $("back").addEventListener("click", goBack);
    $("help-toggle").addEventListener("click", toggleHelp);
    document.addEventListener("keydown", onKey);
    renderUsers();
    route();
    connect();
  });
})();
`;
