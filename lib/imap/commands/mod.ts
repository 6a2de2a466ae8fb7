/**
 * The IMAP command table: verb (with `UID ` for UID variants) -> spec. It is the only place a
 * command is registered; the dispatcher (dispatch.ts) runs commands through it.
 *
 * The table's order is the order of the commands' capabilities in CAPABILITY
 * (capabilities.ts), which clients see byte for byte: keep it when adding a command.
 *
 * @module
 */

import type { CommandSpec } from "../context.ts";
import { ANY_STATE_COMMANDS } from "./any_state.ts";
import { APPEND_COMMANDS } from "./append.ts";
import { AUTH_COMMANDS, UNAUTHENTICATE_COMMANDS } from "./auth.ts";
import { COMPRESS_COMMANDS } from "./compress.ts";
import { COPY_MOVE_COMMANDS } from "./copy_move.ts";
import { EXPUNGE_COMMANDS } from "./expunge.ts";
import { FETCH_COMMANDS } from "./fetch.ts";
import { IDLE_COMMANDS } from "./idle.ts";
import { LIST_COMMANDS } from "./list.ts";
import { MAILBOX_COMMANDS } from "./mailbox.ts";
import { METADATA_COMMANDS } from "./metadata.ts";
import { NAMESPACE_COMMANDS } from "./namespace.ts";
import { NOTIFY_COMMANDS } from "./notify.ts";
import { QUOTA_COMMANDS } from "./quota.ts";
import { SEARCH_COMMANDS } from "./search.ts";
import { SELECT_COMMANDS } from "./select.ts";
import { SORT_COMMANDS } from "./sort.ts";
import { STARTTLS_COMMANDS } from "./starttls.ts";
import { STATUS_COMMANDS } from "./status.ts";
import { STORE_COMMANDS } from "./store.ts";
import { URLAUTH_COMMANDS } from "./urlauth.ts";

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map<string, CommandSpec>([
  // With capabilities, in CAPABILITY order: ENABLE ID, STARTTLS, AUTH=PLAIN / LOGINDISABLED,
  // IDLE, SORT SORT=DISPLAY THREAD=... MULTIAPPEND URL-PARTIAL CATENATE APPENDLIMIT URLAUTH
  // URLAUTH=BINARY (after IDLE, as Dovecot has them), MOVE, UIDPLUS, NAMESPACE, UNSELECT, the LIST
  // extensions, QUOTA, STATUS=SIZE, NOTIFY, COMPRESS=DEFLATE (Dovecot's order), UNAUTHENTICATE,
  // CREATE-SPECIAL-USE, METADATA.
  ...ANY_STATE_COMMANDS,
  ...STARTTLS_COMMANDS,
  ...AUTH_COMMANDS,
  ...IDLE_COMMANDS,
  ...SORT_COMMANDS,
  ...APPEND_COMMANDS,
  ...URLAUTH_COMMANDS,
  ...COPY_MOVE_COMMANDS,
  ...EXPUNGE_COMMANDS,
  ...NAMESPACE_COMMANDS,
  ...SELECT_COMMANDS,
  ...LIST_COMMANDS,
  ...QUOTA_COMMANDS,
  ...STATUS_COMMANDS,
  ...NOTIFY_COMMANDS,
  ...COMPRESS_COMMANDS,
  ...UNAUTHENTICATE_COMMANDS,
  ...MAILBOX_COMMANDS,
  ...METADATA_COMMANDS,
  // Without.
  ...FETCH_COMMANDS,
  ...STORE_COMMANDS,
  ...SEARCH_COMMANDS,
]);
