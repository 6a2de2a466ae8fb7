/**
 * The web inbox's style sheet: three panes on a laptop screen; on a narrow one (a phone) the
 * list, then the open message on its own with a back control; visible keyboard focus, light
 * and dark schemes.
 *
 * @module
 */

/** `/app.css`. */
export const STYLE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #fafafa; --fg: #1d1d1f; --muted: #666; --line: #ddd; --pane: #fff;
  --accent: #0b63c5; --selected: #dbeafe; --new: #fff7d6; --danger: #b42318;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #17181a; --fg: #e8e8ea; --muted: #9a9aa0; --line: #333; --pane: #1f2023;
    --accent: #6aa9ff; --selected: #23344d; --new: #3a3418; --danger: #ff7a6b; }
}
* { box-sizing: border-box; }
/* The hidden attribute wins over any display rule below (.view article is a flex box). */
[hidden] { display: none !important; }
html, body { height: 100%; margin: 0; background: var(--bg); color: var(--fg); }
body { display: flex; flex-direction: column; }
button, .button, input { font: inherit; color: inherit; }
button, .button {
  background: var(--pane); border: 1px solid var(--line); border-radius: 6px;
  padding: 4px 10px; cursor: pointer; text-decoration: none;
}
button:hover, .button:hover { border-color: var(--accent); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
kbd { border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; font-size: 12px; }
.bar { display: flex; gap: 10px; align-items: center; padding: 8px 12px;
  border-bottom: 1px solid var(--line); background: var(--pane); }
.bar h1 { font-size: 16px; margin: 0 8px 0 0; }
.bar input { flex: 1; max-width: 520px; padding: 5px 10px; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); }
.status { color: var(--muted); font-size: 12px; min-width: 90px; }
.status.live { color: #1a7f37; }
.help { padding: 6px 12px; border-bottom: 1px solid var(--line); color: var(--muted); }
.panes { flex: 1; display: grid; grid-template-columns: 200px minmax(280px, 30%) 1fr;
  min-height: 0; }
.users, .list, .view { overflow: auto; min-height: 0; border-right: 1px solid var(--line); }
.users { padding: 8px 0; background: var(--pane); }
.users .user { margin-bottom: 6px; }
.users .user-name { padding: 2px 12px; font-weight: 600; overflow-wrap: anywhere; }
.users ul { list-style: none; margin: 0; padding: 0; }
.users button { display: flex; width: 100%; border: 0; border-radius: 0; background: none;
  padding: 2px 12px 2px 22px; text-align: left; gap: 6px; }
.users button.all { padding-left: 12px; font-weight: 600; }
.users button .count { margin-left: auto; color: var(--muted); font-size: 12px; }
.users button[aria-current="true"] { background: var(--selected); }
.list-title { font-size: 13px; margin: 0; padding: 8px 12px; color: var(--muted);
  border-bottom: 1px solid var(--line); position: sticky; top: 0; background: var(--bg); }
.messages { list-style: none; margin: 0; padding: 0; outline: none; }
.messages li { padding: 6px 12px; border-bottom: 1px solid var(--line); cursor: pointer;
  display: grid; grid-template-columns: 1fr auto; gap: 0 8px; }
.messages li .from { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.messages li .date { color: var(--muted); font-size: 12px; }
.messages li .subj { grid-column: 1 / 3; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; color: var(--muted); }
.messages li.unseen .from, .messages li.unseen .subj { font-weight: 600; color: var(--fg); }
.messages li.fresh { background: var(--new); }
.messages li[aria-selected="true"] { background: var(--selected); }
.empty { color: var(--muted); padding: 12px; margin: 0; }
.view article { padding: 12px 16px; display: flex; flex-direction: column; height: 100%; }
.subject { margin: 0 0 6px; font-size: 18px; overflow-wrap: anywhere; }
.meta { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0 0 8px; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; overflow-wrap: anywhere; }
.toolbar { display: flex; gap: 6px; align-items: center; border-bottom: 1px solid var(--line);
  padding-bottom: 6px; flex-wrap: wrap; }
.toolbar .spacer { flex: 1; }
#tabs { display: flex; gap: 4px; flex-wrap: wrap; }
#tabs button[aria-selected="true"] { background: var(--selected); border-color: var(--accent); }
#delete { color: var(--danger); }
#back { display: none; }
.panel { flex: 1; min-height: 0; overflow: auto; padding-top: 8px; }
.panel iframe { width: 100%; height: 100%; min-height: 400px; border: 1px solid var(--line);
  background: #fff; }
.panel pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0;
  font: 12.5px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.panel table { border-collapse: collapse; width: 100%; }
.panel td { border-bottom: 1px solid var(--line); padding: 3px 6px; vertical-align: top;
  overflow-wrap: anywhere; }
.panel td:first-child { color: var(--muted); white-space: nowrap; }
.panel ul { padding-left: 18px; }
.codes { font: 600 18px ui-monospace, monospace; letter-spacing: 1px; }
.images-bar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 6px;
  padding: 4px 8px; border: 1px dashed var(--line); border-radius: 6px; color: var(--muted); }
.images-bar .note { flex: 1; min-width: 0; }
.panel li.with-thumb { display: flex; align-items: center; gap: 10px; margin-bottom: 6px;
  flex-wrap: wrap; }
.panel .thumb img { display: block; width: 64px; height: 64px; object-fit: contain;
  border: 1px solid var(--line); border-radius: 4px; background: #fff; }
#seen[aria-pressed="false"] { font-weight: 600; }
/* Narrow: the header wraps (search on its own line), and the panes take turns: mailboxes
   and list, or (body.reading) the open message alone with a back button. */
@media (max-width: 900px) {
  .bar { flex-wrap: wrap; row-gap: 6px; }
  .bar input { order: 1; flex: 1 1 100%; max-width: none; }
  .status { min-width: 0; margin-left: auto; }
  .panes { grid-template-columns: minmax(0, 1fr); grid-template-rows: auto minmax(0, 1fr); }
  .users, .list, .view { border-right: 0; }
  .users { max-height: 30vh; border-bottom: 1px solid var(--line); }
  body:not(.reading) .view { display: none; }
  body.reading .users, body.reading .list { display: none; }
  body.reading .panes { grid-template-rows: minmax(0, 1fr); }
  #back { display: inline-block; align-self: flex-start; margin-bottom: 8px; }
  .view article { padding: 10px 12px; }
  .panel iframe { min-height: 60vh; }
}
`;
