/**
 * `POST /messages/{id}/flags`: changes a message's flags as an IMAP STORE would, so IMAP
 * sessions see it (`* n FETCH (FLAGS ...)`) and `/events` reports `flags.changed`. The web
 * inbox marks messages read and unread with it.
 *
 * @module
 */

import type { HttpContext } from "./context.ts";
import { HttpError, json, readJsonObject } from "./json.ts";
import { messageJson } from "./message_json.ts";
import { locate } from "./messages.ts";
import type { RouteRequest } from "./router.ts";

/** A flag as IMAP's `flag` rule has it (a keyword atom or a system flag); never `\Recent`. */
function readFlagList(body: Record<string, unknown>, name: string): string[] {
  const value = body[name];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((flag) => typeof flag === "string")) {
    throw new HttpError(400, `"${name}" must be an array of strings`);
  }
  for (const flag of value as string[]) {
    if (!/^\\?[^\x00-\x20\x7f(){%*"\\\]]+$/.test(flag) || flag.toLowerCase() === "\\recent") {
      throw new HttpError(400, `Invalid flag "${flag}"`);
    }
  }
  return value as string[];
}

/**
 * `POST /messages/{id}/flags` with `{ "add": ["\\Seen"], "remove": ["\\Flagged"] }`: adds,
 * then removes; answers with the message's listing JSON (its new `flags` and `modseq`).
 */
export async function changeFlags(ctx: HttpContext, req: RouteRequest): Promise<Response> {
  const body = await readJsonObject(req.request, ctx.config.limits.maxHttpBody);
  for (const key of Object.keys(body)) {
    if (key !== "add" && key !== "remove") {
      throw new HttpError(400, `Unknown field "${key}" (use add, remove)`);
    }
  }
  const add = readFlagList(body, "add");
  const remove = readFlagList(body, "remove");
  const { meta } = locate(ctx.store, req.params[0]);
  if (add.length > 0) ctx.store.setFlags(meta.user, meta.mailbox, [meta.uid], "add", add);
  if (remove.length > 0) {
    ctx.store.setFlags(meta.user, meta.mailbox, [meta.uid], "remove", remove);
  }
  const now = ctx.store.getMessage(meta.user, meta.mailbox, meta.uid);
  if (!now) throw new HttpError(404, `No message with id "${req.params[0]}"`);
  return json(200, messageJson(now));
}
