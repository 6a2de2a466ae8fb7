/**
 * The IMAP command table: verb (with `UID ` for UID variants) → spec. It is the only place a
 * command is registered; the session dispatches through it.
 *
 * @module
 */

import type { CommandSpec } from "../context.ts";
import { ANY_STATE_COMMANDS } from "./any_state.ts";
import { APPEND_COMMANDS } from "./append.ts";
import { AUTH_COMMANDS } from "./auth.ts";
import { FETCH_COMMANDS } from "./fetch.ts";
import { IDLE_COMMANDS } from "./idle.ts";
import { LIST_COMMANDS } from "./list.ts";
import { MAILBOX_COMMANDS } from "./mailbox.ts";
import { QUOTA_COMMANDS } from "./quota.ts";
import { SEARCH_COMMANDS } from "./search.ts";
import { SELECTED_COMMANDS } from "./selected.ts";
import { STARTTLS_COMMANDS } from "./starttls.ts";

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map([
  ...ANY_STATE_COMMANDS,
  ...AUTH_COMMANDS,
  ...STARTTLS_COMMANDS,
  ...MAILBOX_COMMANDS,
  ...LIST_COMMANDS,
  ...APPEND_COMMANDS,
  ...FETCH_COMMANDS,
  ...SELECTED_COMMANDS,
  ...IDLE_COMMANDS,
  ...QUOTA_COMMANDS,
  ...SEARCH_COMMANDS,
]);
