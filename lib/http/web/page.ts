/**
 * The web inbox's HTML shell. Everything it needs is served by the binary itself
 * (`/app.js`, `/app.css`): no CDN, works offline, and a strict CSP applies.
 *
 * @module
 */

/** The page at `/`. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Elektromail</title>
<link rel="stylesheet" href="/app.css">
<link rel="icon" href="data:,">
<script src="/app.js" defer></script>
</head>
<body>
<header class="bar">
  <h1>Elektromail</h1>
  <input id="search" type="search"
    placeholder="Search: words, from: to: subject: has:attachment is:unread after:2026-12-01  ( / )"
    title="Words and &quot;phrases&quot; match subject, addresses and text; from:, to:, subject:, has:attachment, is:read, is:unread, before:/after: a date; -term excludes"
    aria-label="Search messages" autocomplete="off" spellcheck="false">
  <span id="status" role="status" class="status">connecting\u2026</span>
  <button id="reset" type="button" title="Delete every message and run-time user, clear chaos rules (Shift+R)">Reset</button>
  <button id="help-toggle" type="button" title="Keyboard shortcuts (?)" aria-expanded="false">?</button>
</header>
<section id="help" class="help" hidden aria-label="Keyboard shortcuts">
  <kbd>j</kbd>/<kbd>\u2193</kbd> next message \u00b7 <kbd>k</kbd>/<kbd>\u2191</kbd> previous \u00b7
  <kbd>Enter</kbd> open \u00b7 <kbd>Delete</kbd>/<kbd>#</kbd> delete \u00b7
  <kbd>/</kbd> search \u00b7 <kbd>Esc</kbd> leave search, close the message \u00b7
  <kbd>1</kbd>\u2013<kbd>7</kbd> HTML, Text, Headers, Raw, Attachments, Links, HTML source \u00b7
  <kbd>u</kbd> mark read/unread \u00b7
  <kbd>[</kbd>/<kbd>]</kbd> previous/next mailbox \u00b7 <kbd>Shift</kbd>+<kbd>R</kbd> reset
</section>
<main class="panes">
  <nav id="users" class="users" aria-label="Users and mailboxes"></nav>
  <section class="list" aria-label="Messages">
    <h2 id="list-title" class="list-title">All messages</h2>
    <ul id="messages" class="messages" role="listbox" tabindex="0" aria-labelledby="list-title"></ul>
    <p id="empty" class="empty">No messages yet. Send one to the SMTP port.</p>
  </section>
  <section id="view" class="view" aria-label="Message" aria-live="polite">
    <p id="view-empty" class="empty">Select a message.</p>
    <article id="message" hidden>
      <button id="back" type="button" title="Back to the list (Esc)">\u2190 Back</button>
      <h2 id="m-subject" class="subject"></h2>
      <dl id="m-meta" class="meta"></dl>
      <div class="toolbar">
        <div id="tabs" role="tablist" aria-label="Message views"></div>
        <span class="spacer"></span>
        <button id="seen" type="button" title="Mark read or unread: the \\Seen flag, as IMAP sees it (u)">Mark read</button>
        <a id="m-raw" class="button" download>Download .eml</a>
        <button id="delete" type="button" title="Delete this message (Delete)">Delete</button>
      </div>
      <div id="panel" class="panel" role="tabpanel"></div>
    </article>
  </section>
</main>
</body>
</html>
`;
