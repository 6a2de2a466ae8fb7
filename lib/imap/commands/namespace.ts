/**
 * NAMESPACE (RFC 9051 6.3.10, RFC 2342): one personal namespace, the root, with the
 * hierarchy delimiter; no other users' or shared namespaces.
 *
 * ```abnf
 * namespace = "NAMESPACE"
 * ```
 *
 * @module
 */

import { HIERARCHY_DELIMITER } from "../../store/types.ts";
import { AUTHED, type OpenCommandSpec } from "../context.ts";
import { quoted, untagged } from "../encoder.ts";

export const NAMESPACE_COMMANDS: ReadonlyArray<[string, OpenCommandSpec]> = [
  ["NAMESPACE", {
    states: AUTHED,
    allowExpunge: true,
    capabilities: ["NAMESPACE"],
    run(session, reader) {
      reader.end();
      const personal = `(${quoted("")} ${quoted(HIERARCHY_DELIMITER)})`;
      session.out.push(untagged(`NAMESPACE (${personal}) NIL NIL`));
    },
  }],
];
