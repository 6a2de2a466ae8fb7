/**
 * The web inbox's message view: the message's header, its views (sandboxed HTML, text,
 * headers, raw, attachments, links and codes) and deletion. A fragment of the script in
 * `app.ts`, inside its function scope (it uses `state`, `el`, `api` and friends from there).
 *
 * @module
 */

/** The message-view part of `/app.js`. */
export const VIEW_JS = String.raw`
  // ---- message view ----

  function openMessage(id) {
    return api(messagePath(id)).then(function (r) {
      if (r.status === 404) { closeView("This message was deleted."); return null; }
      return r.json();
    }).then(function (message) {
      if (!message) return;
      state.open = message;
      setHash(hashFor(message.user, message.mailbox, message.uid));
      var available = {
        HTML: message.html !== null,
        Text: message.text !== null,
        Attachments: message.attachments.length > 0,
      };
      available["HTML source"] = available.HTML;
      if (!state.tab || available[state.tab] === false) {
        state.tab = message.html !== null ? "HTML" : "Text";
      }
      renderView();
    }).catch(showError);
  }

  function closeView(note) {
    state.open = null;
    document.body.classList.remove("reading");
    $("message").hidden = true;
    $("view-empty").hidden = false;
    $("view-empty").textContent = note || "Select a message.";
    setHash(hashFor(state.user, state.mailbox, null));
  }

  function renderView() {
    var message = state.open;
    $("view-empty").hidden = true;
    $("message").hidden = false;
    document.body.classList.add("reading");
    renderMeta();
    var tabs = $("tabs");
    tabs.textContent = "";
    TABS.forEach(function (name, i) {
      var label = name === "Attachments" ? name + " (" + message.attachments.length + ")" : name;
      tabs.appendChild(el("button", {
        type: "button",
        role: "tab",
        "aria-selected": state.tab === name ? "true" : "false",
        title: label + " (" + (i + 1) + ")",
        onclick: function () { showTab(name); },
        text: label,
      }));
    });
    renderPanel();
  }

  // The open message's header lines and read state: what a flag change alters. The panel
  // (a sandboxed HTML body among them) stays as it is, scrolled where the reader left it.
  function renderMeta() {
    var message = state.open;
    $("m-subject").textContent = message.subject || "(no subject)";
    var meta = $("m-meta");
    meta.textContent = "";
    [["From", message.from], ["To", message.to], ["Cc", message.cc], ["Date", message.date],
      ["Id", message.id], ["Flags", message.flags.join(" ")]].forEach(function (pair) {
      if (!pair[1]) return;
      meta.appendChild(el("dt", { text: pair[0] }));
      meta.appendChild(el("dd", { text: pair[1] }));
    });
    var seen = message.flags.indexOf("\\Seen") >= 0;
    $("seen").textContent = seen ? "Mark unread" : "Mark read";
    $("seen").setAttribute("aria-pressed", seen ? "true" : "false");
    $("m-raw").setAttribute("href", messagePath(message.id, "/raw"));
    $("m-raw").setAttribute("download", message.id.replace(/[^\w.-]+/g, "_") + ".eml");
  }

  function showTab(name) {
    state.tab = name;
    if (state.open) renderView();
  }

  function renderPanel() {
    var message = state.open;
    var panel = $("panel");
    panel.textContent = "";
    var id = message.id;
    if (state.tab === "HTML") {
      if (message.html === null) return panel.appendChild(el("p", { class: "empty", text: "No HTML body." }));
      renderHtml(panel, id);
    } else if (state.tab === "HTML source") {
      panel.appendChild(message.html === null
        ? el("p", { class: "empty", text: "No HTML body." })
        : el("pre", { class: "source", text: message.html }));
    } else if (state.tab === "Text") {
      panel.appendChild(message.text === null
        ? el("p", { class: "empty", text: "No text body." })
        : el("pre", { text: message.text }));
    } else if (state.tab === "Headers") {
      // The SMTP envelope first (none for APPENDed mail), then the header fields.
      var envelope = message.envelope ? [
        ["Envelope sender", message.envelope.from === "" ? "<>" : message.envelope.from],
        ["Envelope recipient", message.envelope.to],
      ] : [];
      panel.appendChild(el("table", null, envelope.map(function (row) {
        return el("tr", { class: "envelope" }, [el("td", { text: row[0] }), el("td", { text: row[1] })]);
      }).concat(message.headers.map(function (h) {
        return el("tr", null, [el("td", { text: h.name }), el("td", { text: h.value })]);
      }))));
    } else if (state.tab === "Raw") {
      var pre = el("pre", { text: "Loading\u2026" });
      panel.appendChild(pre);
      api(messagePath(id, "/raw")).then(function (r) { return r.text(); }).then(function (text) {
        if (state.open && state.open.id === id) pre.textContent = text;
      }).catch(showError);
    } else if (state.tab === "Attachments") {
      if (message.attachments.length === 0) return panel.appendChild(el("p", { class: "empty", text: "No attachments." }));
      panel.appendChild(el("ul", null, message.attachments.map(function (a) {
        var name = a.filename || ("part-" + a.part);
        var href = messagePath(id, "/parts/" + encodeURIComponent(a.part));
        // Only image types the part route serves inline (never SVG, a document) get a thumbnail.
        var thumb = THUMBNAIL_TYPES.test(a.contentType)
          ? el("a", { href: href, download: name, class: "thumb" }, [el("img", { src: href, alt: name, loading: "lazy" })])
          : null;
        return el("li", { class: thumb ? "with-thumb" : "" }, [
          thumb,
          el("a", { href: href, download: name, text: name }),
          el("span", { text: "  " + a.contentType + ", " + a.size + " bytes" }),
        ]);
      })));
    } else if (state.tab === "Links") {
      var codes = el("p", { class: "codes", text: "\u2026" });
      var links = el("ul");
      panel.appendChild(el("h3", { text: "Likely codes" }));
      panel.appendChild(codes);
      panel.appendChild(el("h3", { text: "Links" }));
      panel.appendChild(links);
      api(messagePath(id, "/codes")).then(function (r) { return r.json(); }).then(function (data) {
        codes.textContent = data.codes && data.codes.length ? data.codes.join("  ") : "none";
      }).catch(showError);
      api(messagePath(id, "/links")).then(function (r) { return r.json(); }).then(function (data) {
        (data.links || []).forEach(function (link) {
          var safe = /^(https?:|mailto:)/i.test(link.url);
          links.appendChild(el("li", null, [
            safe ? el("a", { href: link.url, rel: "noopener noreferrer", target: "_blank", text: link.url })
              : el("span", { text: link.url }),
            link.text ? el("span", { text: "  (" + link.text + ")" }) : null,
          ]));
        });
        if (!data.links || data.links.length === 0) links.appendChild(el("li", { text: "none" }));
      }).catch(showError);
    }
  }

  var THUMBNAIL_TYPES = /^image\/(png|apng|jpeg|pjpeg|gif|webp|avif|bmp)$/i;

  // The sandboxed body; remote images blocked (a placeholder shows) until this message's
  // "Show remote images", which reloads it with a policy that allows images only.
  function renderHtml(panel, id) {
    var remote = state.remoteImages[id] === true;
    var note = el("span", { class: "note" });
    var toggle = el("button", {
      type: "button",
      id: "remote-images",
      onclick: function () {
        if (remote) delete state.remoteImages[id];
        else state.remoteImages[id] = true;
        renderPanel();
      },
      text: remote ? "Block remote images" : "Show remote images",
    });
    var bar = el("div", { class: "images-bar", hidden: "" }, [note, toggle]);
    panel.appendChild(bar);
    panel.appendChild(el("iframe", {
      sandbox: "",
      referrerpolicy: "no-referrer",
      title: "HTML body",
      src: messagePath(id, "/html" + (remote ? "?images=remote" : "")),
    }));
    api(messagePath(id, "/html"), { method: "HEAD" }).then(function (r) {
      var count = Number(r.headers.get("x-remote-images") || "0");
      if (count === 0 || !state.open || state.open.id !== id) return;
      note.textContent = remote
        ? count + (count === 1 ? " remote image shown." : " remote images shown.")
        : count + (count === 1 ? " remote image blocked." : " remote images blocked.");
      bar.hidden = false;
    }).catch(showError);
  }

  // Marks the open message read or unread: its \Seen flag, which IMAP clients see.
  function toggleSeen() {
    var message = state.open;
    if (!message) return;
    var seen = message.flags.indexOf("\\Seen") >= 0;
    var change = seen ? { remove: ["\\Seen"] } : { add: ["\\Seen"] };
    api(messagePath(message.id, "/flags"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(change),
    }).then(function (r) { return r.json(); }).then(function (updated) {
      state.messages.forEach(function (m) { if (m.id === updated.id) m.flags = updated.flags; });
      if (state.open && state.open.id === updated.id) { state.open.flags = updated.flags; renderMeta(); }
      renderMessages();
    }).catch(showError);
  }

  function deleteOpen() {
    var message = state.open;
    if (!message) return;
    var index = state.messages.findIndex(function (m) { return m.id === message.id; });
    api(messagePath(message.id), { method: "DELETE" }).then(function () {
      removeIds([message.id]);
      if (state.messages.length > 0) select(Math.min(index, state.messages.length - 1), true);
      else closeView();
    }).catch(showError);
  }

  function removeIds(ids) {
    var openId = state.open && state.open.id;
    var selectedId = state.selected >= 0 && state.messages[state.selected] && state.messages[state.selected].id;
    state.messages = state.messages.filter(function (m) { return ids.indexOf(m.id) < 0; });
    state.selected = state.messages.findIndex(function (m) { return m.id === selectedId; });
    renderMessages();
    if (openId && ids.indexOf(openId) >= 0) closeView("This message was deleted.");
  }

`;
