/**
 * URLAUTH (RFC 4467) commands, with URLFETCH's extended form (RFC 5524, `URLAUTH=BINARY`).
 *
 * ```abnf
 * genurlauth    = "GENURLAUTH" 1*(SP url-rump SP mechanism)       ; RFC 4467 9
 * resetkey      = "RESETKEY" [SP mailbox *(SP mechanism)]
 * urlfetch      = "URLFETCH" 1*(SP url-fetch-arg)                 ; RFC 5524 5
 * url-fetch-arg = "(" url-full *(SP url-fetch-param) ")" / url-full
 * url-fetch-param = "BODYPARTSTRUCTURE" / "BINARY" / "BODY"
 * ```
 * Answers as Dovecot 2.3 does: one `* GENURLAUTH` line for all URLs; one `* URLFETCH` per
 * URL, `NIL` and an untagged `NO Failed to fetch URLAUTH "url": reason.` for a URL that
 * cannot be fetched (the command still succeeds); `OK [URLMECH INTERNAL] Key removed` / `OK All keys removed`.
 *
 * @module
 */

import { findPart } from "../../mail/mime.ts";
import { encodeBodyStructure } from "../bodystructure.ts";
import {
  AUTHED,
  type AuthedCommandSpec,
  type AuthedSession,
  FLUSH_THRESHOLD,
  ImapError,
} from "../context.ts";
import { astring, literal, quoted, untagged } from "../encoder.ts";
import type { Reader } from "../parser.ts";
import { applyPartial, binaryBytes, binarySection } from "../sections.ts";
import { UrlTargetError } from "../url_target.ts";
import { authorizedTarget, generateUrlAuth, INTERNAL } from "../urlauth.ts";
import { requireMailbox, validName } from "./mailbox.ts";

/** URLs one GENURLAUTH or URLFETCH may name. */
export const MAX_URLS = 100;

/** One URLFETCH argument: the URL and, for the extended form, what to return. */
interface FetchRequest {
  readonly url: string;
  readonly extended: boolean;
  readonly body: "BODY" | "BINARY" | null;
  readonly structure: boolean;
}

export const URLAUTH_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["GENURLAUTH", {
    states: AUTHED,
    allowExpunge: true,
    capabilities: ["URLAUTH", "URLAUTH=BINARY"],
    run(session, reader) {
      const urls: string[] = [];
      do {
        if (urls.length === MAX_URLS) throw tooMany();
        reader.sp();
        const rump = reader.readAstring();
        reader.sp();
        urls.push(generateUrlAuth(session, rump, reader.readAtom()));
      } while (!reader.atEnd());
      reader.end();
      const parts = urls.flatMap((url) => [" ", astring(url, session.utf8)]);
      session.out.push("* GENURLAUTH", ...parts, "\r\n");
    },
  }],
  ["RESETKEY", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      if (reader.atEnd()) {
        session.ctx.store.resetAccessKeys(session.user);
        return { text: "All keys removed" };
      }
      reader.sp();
      const name = validName(reader.readMailboxName(session.utf8), "NONEXISTENT");
      const mechanisms: string[] = [];
      while (reader.maybeSp()) mechanisms.push(reader.readAstring());
      reader.end();
      if (mechanisms.some((mechanism) => mechanism.toUpperCase() !== INTERNAL)) {
        throw new ImapError("NO", null, "Unsupported URLAUTH mechanism");
      }
      const info = requireMailbox(session, name);
      session.ctx.store.resetAccessKeys(session.user, info.name);
      return { code: `URLMECH ${INTERNAL}`, text: "Key removed" };
    },
  }],
  ["URLFETCH", {
    states: AUTHED,
    allowExpunge: true,
    async run(session, reader) {
      const requests: FetchRequest[] = [];
      do {
        if (requests.length === MAX_URLS) throw tooMany();
        reader.sp();
        requests.push(readFetchArgument(reader));
      } while (!reader.atEnd());
      reader.end();
      for (const request of requests) {
        writeUrlFetch(session, request);
        // Each URL may be a whole message: never hold more than one unsent.
        if (session.out.length > FLUSH_THRESHOLD) await session.flush();
      }
    },
  }],
];

function tooMany(): ImapError {
  return new ImapError("NO", "LIMIT", `Cannot handle more than ${MAX_URLS} URLs in one command`);
}

/** `url-fetch-arg` */
function readFetchArgument(reader: Reader): FetchRequest {
  if (reader.peek() !== "(") {
    return { url: reader.readAstring(), extended: false, body: "BODY", structure: false };
  }
  reader.expect("(");
  const url = reader.readAstring();
  let body: FetchRequest["body"] = null;
  let structure = false;
  while (reader.maybeSp()) {
    const param = reader.readAtom().toUpperCase();
    if (param === "BODYPARTSTRUCTURE") structure = true;
    else if (param === "BODY" || param === "BINARY") {
      if (body !== null && body !== param) {
        throw reader.error("URL cannot have both BODY and BINARY fetch parameters");
      }
      body = param;
    } else throw reader.error(`Unknown URL fetch parameter: ${param}`);
  }
  reader.expect(")");
  // RFC 5524 5: with no parameter the extended form returns BODY.
  if (body === null && !structure) body = "BODY";
  return { url, extended: true, body, structure };
}

/** One `* URLFETCH` response (RFC 4467 6.3, RFC 5524 5). */
function writeUrlFetch(session: AuthedSession, request: FetchRequest): void {
  const { out } = session;
  const url = astring(request.url, session.utf8);
  let data: Uint8Array;
  let structure: string | Uint8Array | null = null;
  try {
    const target = authorizedTarget(session, request.url);
    data = target.bytes;
    if (request.body === "BINARY") {
      const resolved = target.part ? binarySection(target.view, target.part) : null;
      if (!resolved || resolved.kind !== "data") {
        throw new UrlTargetError("Cannot decode the part's content transfer encoding");
      }
      data = applyPartial(binaryBytes(target.view, resolved.part), target.partial);
    }
    if (request.structure && target.part) {
      const part = target.part.length === 0
        ? target.view.root
        : findPart(target.view.root, target.part.join("."));
      if (part) {
        structure = encodeBodyStructure(target.view.raw, part, {
          extended: true,
          messageGlobal: session.rev2,
        });
      }
    }
  } catch (error) {
    if (!(error instanceof UrlTargetError)) throw error;
    const reason = `Failed to fetch URLAUTH ${quoted(request.url)}: ${error.message}.`;
    out.push("* URLFETCH ", url, " NIL\r\n", untagged(`NO ${reason}`));
    return;
  }
  if (!request.extended) {
    out.push("* URLFETCH ", url, " ", literal(data), "\r\n");
    return;
  }
  const items: Array<string | Uint8Array> = [];
  if (structure !== null) items.push("BODYPARTSTRUCTURE ", structure);
  if (request.body) {
    if (items.length > 0) items.push(" ");
    items.push(`${request.body} `, literal(data, request.body === "BINARY" && data.includes(0)));
  }
  out.push("* URLFETCH ", url, " (", ...items, ")\r\n");
}
