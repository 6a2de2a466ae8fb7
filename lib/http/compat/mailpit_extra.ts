/**
 * Mailpit's routes beyond the message list: tags (IMAP keywords), parts, and the answers of
 * the features we do not have (`webui`, `sa-check`), as Mailpit gives them when those are off.
 *
 * @module
 */

import type { MessageMeta, Store } from "../../store/types.ts";
import type { HttpContext } from "../context.ts";
import { HttpError, json, readJsonObject } from "../json.ts";
import { extractContent } from "../../mail/content.ts";
import { getPart, locate } from "../messages.ts";
import type { Route, RouteRequest } from "../router.ts";
import { contentResponse, inboxNewestFirst, locateInbox, targetMessage } from "./shared.ts";

const BODY_LIMIT = 1 << 20;

const isKeyword = (flag: string) => !flag.startsWith("\\");

/**
 * A tag as an IMAP keyword (RFC 9051 `flag-keyword` is an atom): no space, control, quote,
 * parenthesis, brace, `%`, `*`, `\` or `]`; anything else is a 400 rather than a keyword
 * IMAP clients could not read.
 */
function keyword(tag: unknown): string {
  if (typeof tag !== "string" || tag === "" || tag.length > 100) {
    throw new HttpError(400, `A tag must be a string of 1 to 100 characters`);
  }
  for (const char of tag) {
    const code = char.codePointAt(0)!;
    if (code <= 0x20 || code >= 0x7f || `(){%*"\\]`.includes(char)) {
      throw new HttpError(400, `Tag "${tag}" cannot be an IMAP keyword (use letters, digits, -_.)`);
    }
  }
  return tag;
}

function tagged(store: Store, tag: string): MessageMeta[] {
  return inboxNewestFirst(store).filter((meta) => meta.flags.includes(tag));
}

/** `GET /api/v1/tags`: every keyword in use, sorted. */
function listTags(ctx: HttpContext): Response {
  const tags = new Set(inboxNewestFirst(ctx.store).flatMap((meta) => meta.flags.filter(isKeyword)));
  return json(200, [...tags].sort());
}

const ok = () => new Response("ok", { headers: { "content-type": "text/plain; charset=utf-8" } });

/** `PUT /api/v1/tags` with `{"IDs": [...], "Tags": [...]}`: the messages' tags become these. */
async function setTags(ctx: HttpContext, { request }: RouteRequest): Promise<Response> {
  const body = await readJsonObject(request, BODY_LIMIT);
  if (!Array.isArray(body.IDs) || !Array.isArray(body.Tags ?? [])) {
    throw new HttpError(400, `Expected {"IDs": [...], "Tags": [...]}`);
  }
  const tags = ((body.Tags ?? []) as unknown[]).map(keyword);
  const messages = (body.IDs as unknown[]).map((id) => {
    if (typeof id !== "string") throw new HttpError(400, `"IDs" must be message ids`);
    return locateInbox(ctx.store, id).meta;
  });
  for (const meta of messages) {
    const system = meta.flags.filter((flag) => !isKeyword(flag));
    ctx.store.setFlags(meta.user, meta.mailbox, [meta.uid], "replace", [...system, ...tags]);
  }
  return ok();
}

/** `PUT /api/v1/tags/{Tag}` with `{"Name": "new"}`: renames the tag on every message. */
async function renameTag(ctx: HttpContext, { request, params }: RouteRequest): Promise<Response> {
  const body = await readJsonObject(request, BODY_LIMIT);
  const name = keyword(body.Name);
  for (const meta of tagged(ctx.store, params[0])) {
    ctx.store.setFlags(meta.user, meta.mailbox, [meta.uid], "remove", [params[0]]);
    ctx.store.setFlags(meta.user, meta.mailbox, [meta.uid], "add", [name]);
  }
  return ok();
}

/** `DELETE /api/v1/tags/{Tag}`: removes the tag from every message. */
async function deleteTag(ctx: HttpContext, { request, params }: RouteRequest): Promise<Response> {
  await request.body?.cancel().catch(() => {});
  for (const meta of tagged(ctx.store, params[0])) {
    ctx.store.setFlags(meta.user, meta.mailbox, [meta.uid], "remove", [params[0]]);
  }
  return ok();
}

/**
 * `GET /api/v1/message/{ID}/part/{PartID}` (and `/thumb`, which serves the part itself):
 * the control plane's part route, with its sandboxing headers; Mailpit's part ids are the
 * IMAP part numbers.
 */
function part(ctx: HttpContext, req: RouteRequest): Response | Promise<Response> {
  const meta = targetMessage(ctx.store, req.params[0]);
  return getPart(ctx, { ...req, params: [meta.id, req.params[1]] });
}

/** `GET /api/v1/message/{ID}/sa-check`: Mailpit's answer when SpamAssassin is off. */
function spamAssassinCheck(ctx: HttpContext, { params }: RouteRequest): Response {
  targetMessage(ctx.store, params[0]);
  return new Response("SpamAssassin is not enabled", {
    status: 400,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** `GET /api/v1/webui`: Mailpit's UI configuration; the relay is on when one is configured. */
function webui(ctx: HttpContext): Response {
  return json(200, {
    Label: "Elektromail",
    MessageRelay: {
      Enabled: ctx.config.releaseRelay !== null,
      SMTPServer: ctx.config.releaseRelay ?? "",
      ReturnPath: "",
      AllowedRecipients: "",
      BlockedRecipients: "",
      OverrideFrom: "",
      PreserveMessageIDs: false,
    },
    SpamAssassin: false,
    ChaosEnabled: false,
    DuplicatesIgnored: false,
    HideDeleteAllButton: false,
  });
}

/**
 * `GET /view/{ID}.html` and `/view/{ID}.txt` (`ID` may be `latest`): the message's HTML or
 * text body as a page, as Mailpit renders them for UI tests (npm `mailpit-api`
 * `renderMessageHTML`, `cypress-mailpit`), with the sandboxing headers of the other content
 * routes, so a mailed page runs nothing; 404 without that body.
 */
function view(ctx: HttpContext, { params }: RouteRequest): Response {
  const file = params[0];
  const html = file.endsWith(".html");
  if (!html && !file.endsWith(".txt")) throw new HttpError(404, `No view "${file}"`);
  const meta = targetMessage(ctx.store, file.slice(0, file.lastIndexOf(".")));
  const { raw, index } = locate(ctx.store, meta.id);
  const content = extractContent(raw, index.root);
  const body = html ? content.html : content.text;
  if (body === null) throw new HttpError(404, `Message has no ${html ? "HTML" : "text"} body`);
  const type = html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8";
  return contentResponse(new TextEncoder().encode(body), type, "inline", null);
}

/** `GET //view/{file}`: 301 to `/view/{file}`, as Go's router cleans a path. */
function cleanViewPath(_ctx: HttpContext, { params, url }: RouteRequest): Response {
  const location = `/view/${encodeURIComponent(params[0])}${url.search}`;
  return new Response(null, { status: 301, headers: { location } });
}

/** The routes of this module, fixed paths above their `:param` neighbours. */
export const MAILPIT_EXTRA_ROUTES: readonly Route[] = [
  { path: "/api/v1/tags", methods: { GET: listTags, PUT: setTags } },
  { path: "/api/v1/tags/:tag", methods: { PUT: renameTag, DELETE: deleteTag } },
  { path: "/api/v1/webui", methods: { GET: webui } },
  { path: "/api/v1/message/:id/part/:part", methods: { GET: part } },
  { path: "/api/v1/message/:id/part/:part/thumb", methods: { GET: part } },
  { path: "/api/v1/message/:id/sa-check", methods: { GET: spamAssassinCheck } },
  { path: "/view/:file", methods: { GET: view } },
  // cypress-mailpit asks for `//view/...` (its base URL joined with a path that starts with
  // `/`); Mailpit's router redirects such a path to its clean form, and so does this.
  { path: "//view/:file", methods: { GET: cleanViewPath } },
];
