/**
 * QUOTA (RFC 9208), minimal: one root `""` per user with the STORAGE resource.
 *
 * ```abnf
 * getquota     = "GETQUOTA" SP quota-root-name
 * getquotaroot = "GETQUOTAROOT" SP mailbox
 * ```
 *
 * @module
 */

import { AUTHED, type AuthedCommandSpec, type AuthedSession, ImapError } from "../context.ts";
import { mailboxName, quoted } from "../encoder.ts";

/** The STORAGE limit reported, in units of 1024 octets (10 GiB): large enough never to bite. */
const STORAGE_LIMIT_KB = 10 * 1024 * 1024;

function writeQuota(session: AuthedSession): void {
  const used = session.ctx.store.listMailboxes(session.user).reduce(
    (sum, info) => sum + info.size,
    0,
  );
  session.out.line(`* QUOTA ${quoted("")} (STORAGE ${Math.ceil(used / 1024)} ${STORAGE_LIMIT_KB})`);
}

export const QUOTA_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["GETQUOTA", {
    states: AUTHED,
    allowExpunge: true,
    capabilities: ["QUOTA", "QUOTA=RES-STORAGE"],
    run(session, reader) {
      reader.sp();
      const root = reader.readAstring();
      reader.end();
      if (root !== "") throw new ImapError("NO", "NONEXISTENT", `No such quota root: ${root}`);
      writeQuota(session);
    },
  }],
  ["GETQUOTAROOT", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      reader.sp();
      const name = reader.readMailbox(session.utf8);
      reader.end();
      const info = session.ctx.store.getMailbox(session.user, name);
      if (!info) throw new ImapError("NO", "NONEXISTENT", `Mailbox does not exist: ${name}`);
      session.out.push("* QUOTAROOT ", mailboxName(info.name, session.utf8), ` ${quoted("")}\r\n`);
      writeQuota(session);
    },
  }],
];
