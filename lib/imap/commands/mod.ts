/**
 * The IMAP command table: verb (with `UID ` for UID variants) → spec. It is the only place a
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
import { COPY_MOVE_COMMANDS } from "./copy_move.ts";
import { EXPUNGE_COMMANDS } from "./expunge.ts";
import { FETCH_COMMANDS } from "./fetch.ts";
import { IDLE_COMMANDS } from "./idle.ts";
import { LIST_COMMANDS } from "./list.ts";
import { MAILBOX_COMMANDS } from "./mailbox.ts";
import { METADATA_COMMANDS } from "./metadata.ts";
import { NAMESPACE_COMMANDS } from "./namespace.ts";
import { QUOTA_COMMANDS } from "./quota.ts";
import { SEARCH_COMMANDS } from "./search.ts";
import { SELECT_COMMANDS } from "./select.ts";
import { STARTTLS_COMMANDS } from "./starttls.ts";
import { STATUS_COMMANDS } from "./status.ts";
import { STORE_COMMANDS } from "./store.ts";

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map<string, CommandSpec>([
  // With capabilities, in CAPABILITY order: ENABLE ID, STARTTLS, AUTH=PLAIN / LOGINDISABLED,
  // IDLE, MOVE, UIDPLUS, NAMESPACE, UNSELECT, the LIST extensions, QUOTA, STATUS=SIZE,
  // UNAUTHENTICATE, CREATE-SPECIAL-USE, METADATA.
  ...ANY_STATE_COMMANDS,
  ...STARTTLS_COMMANDS,
  ...AUTH_COMMANDS,
  ...IDLE_COMMANDS,
  ...COPY_MOVE_COMMANDS,
  ...EXPUNGE_COMMANDS,
  ...NAMESPACE_COMMANDS,
  ...SELECT_COMMANDS,
  ...LIST_COMMANDS,
  ...QUOTA_COMMANDS,
  ...STATUS_COMMANDS,
  ...UNAUTHENTICATE_COMMANDS,
  ...MAILBOX_COMMANDS,
  ...METADATA_COMMANDS,
  // Without.
  ...APPEND_COMMANDS,
  ...FETCH_COMMANDS,
  ...STORE_COMMANDS,
  ...SEARCH_COMMANDS,
]);
