/**
 * `GET /users`: configured users and users created at run time, never with passwords.
 *
 * @module
 */

import type { HttpContext } from "./context.ts";
import { json } from "./json.ts";

/** `GET /users`: configured users first (in configuration order), then the others. */
export function listUsers(ctx: HttpContext): Response {
  const names = [...ctx.config.users.map((entry) => entry.user)];
  for (const user of ctx.store.listUsers()) if (!names.includes(user)) names.push(user);
  const out = names.map((user) => {
    const entry = ctx.config.users.find((candidate) => candidate.user === user);
    const mailboxes = ctx.store.hasUser(user) ? ctx.store.listMailboxes(user) : [];
    return {
      user,
      address: entry?.address ?? null,
      configured: entry !== undefined,
      messages: mailboxes.reduce((sum, mailbox) => sum + mailbox.messages, 0),
      mailboxes: mailboxes.map((mailbox) => ({
        name: mailbox.name,
        messages: mailbox.messages,
        unseen: mailbox.unseen,
      })),
    };
  });
  return json(200, out);
}
