/**
 * Fault-injection rules: what a rule looks like as JSON (`POST /chaos`, `ELEKTROMAIL_CHAOS`),
 * and the one validator that turns untrusted input into a {@linkcode ChaosRuleSpec} or says
 * exactly which field is wrong.
 *
 * ```json
 * { "protocol": "smtp", "command": "RCPT", "action": "fail", "code": 451,
 *   "enhanced": "4.3.0", "times": 1, "recipient": "alice+t1@example.com" }
 * { "protocol": "imap", "command": "SELECT", "status": "NO", "code": "UNAVAILABLE",
 *   "percent": 25, "seed": 7, "user": "alice" }
 * ```
 *
 * @module
 */

import { canonicalUserName } from "../store/names.ts";

/** SMTP commands a rule can target; `EHLO` covers `HELO`, `DATA` is the end-of-data reply. */
export const SMTP_COMMANDS = ["CONNECT", "EHLO", "AUTH", "MAIL", "RCPT", "DATA"] as const;
export type SmtpCommand = typeof SMTP_COMMANDS[number];

/** POP3 commands a rule can target (besides `*`, any command but `CONNECT`). */
export const POP3_COMMANDS = [
  "CONNECT",
  "CAPA",
  "STLS",
  "USER",
  "PASS",
  "APOP",
  "AUTH",
  "STAT",
  "LIST",
  "RETR",
  "TOP",
  "DELE",
  "NOOP",
  "RSET",
  "UIDL",
  "QUIT",
] as const;

/** The protocols rules apply to. */
export type ChaosProtocol = "smtp" | "imap" | "pop3";

export type ChaosAction = "fail" | "delay" | "drop";

/** The longest delay a rule may ask for, in milliseconds. */
export const MAX_DELAY_MS = 120_000;
/** The most rules one server holds. */
export const MAX_RULES = 1000;

/** A validated rule, before the engine gives it an id and counters. */
export interface ChaosRuleSpec {
  readonly protocol: ChaosProtocol;
  /** SMTP: one of {@linkcode SMTP_COMMANDS}. IMAP: a command name (`FETCH` also matches
   * `UID FETCH`), `CONNECT` (the greeting) or `*` (any command). POP3: one of
   * {@linkcode POP3_COMMANDS} or `*`. Upper case. */
  readonly command: string;
  readonly action: ChaosAction;
  /** Waited before the reply (`delay`), the failure (`fail`) or the hang-up (`drop`). */
  readonly delayMs: number;
  /**
   * SMTP reply code (400-599), IMAP response code atom (e.g. `UNAVAILABLE`) or POP3 response
   * code (e.g. `SYS/TEMP`, RFC 2449 8), for `fail`.
   */
  readonly code: number | string | null;
  /** SMTP enhanced status code (RFC 3463), for `fail`. */
  readonly enhanced: string | null;
  /** IMAP tagged status, for `fail`. */
  readonly status: "NO" | "BAD" | null;
  readonly text: string | null;
  /** How many times the rule fires; null: no limit (only with `percent`). */
  readonly times: number | null;
  /** Chance in percent that a matching command is hit; null: every one. */
  readonly percent: number | null;
  /** Seed of the rule's own PRNG, so percentages are reproducible. */
  readonly seed: number;
  /** Only commands of this user (canonical name). */
  readonly user: string | null;
  /** Only SMTP transactions to this recipient (lower case; a bare local part matches any domain). */
  readonly recipient: string | null;
}

/** A rule the input cannot become, with the field at fault. */
export class ChaosRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChaosRuleError";
  }
}

const FIELDS = [
  "protocol",
  "command",
  "action",
  "delayMs",
  "code",
  "enhanced",
  "status",
  "text",
  "times",
  "percent",
  "seed",
  "user",
  "recipient",
];

/** Which SMTP commands know the user (`MAIL`: the AUTH user; `RCPT`, `DATA`: the recipients'). */
const SMTP_USER_COMMANDS: readonly string[] = ["MAIL", "RCPT", "DATA"];
const SMTP_RECIPIENT_COMMANDS: readonly string[] = ["RCPT", "DATA"];

/**
 * Validates one rule. `where` prefixes messages (`rule 2`), so a list can name its culprit.
 *
 * @example
 * ```ts
 * parseChaosRule({ protocol: "smtp", command: "rcpt", code: 451 });
 * // -> { protocol: "smtp", command: "RCPT", action: "fail", code: 451, enhanced: "4.0.0", times: 1, ... }
 * ```
 */
export function parseChaosRule(input: unknown, where = "rule"): ChaosRuleSpec {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ChaosRuleError(`${where}: expected a JSON object`);
  }
  const raw = input as Record<string, unknown>;
  const fields: RuleFields = {
    raw,
    fail: (field: string, what: string): never => {
      throw new ChaosRuleError(`${where}: "${field}" ${what}`);
    },
    given: (field: string) => raw[field] !== undefined && raw[field] !== null,
  };
  for (const key of Object.keys(raw)) {
    if (!FIELDS.includes(key)) fields.fail(key, `is not a rule field (use ${FIELDS.join(", ")})`);
  }
  const { protocol, command } = readTarget(fields);
  const { action, delayMs } = readAction(fields);
  return {
    protocol,
    command,
    action,
    delayMs,
    ...readFailure(fields, protocol, action),
    ...readRepetition(fields),
    ...readFilters(fields, protocol, command),
  };
}

/** A rule's raw fields, with the two questions every reader asks of them. */
interface RuleFields {
  readonly raw: Record<string, unknown>;
  /** Throws the rule's error for `field`. */
  fail(field: string, what: string): never;
  /** The field is present and not null. */
  given(field: string): boolean;
}

/** `protocol` and `command` (HELO is EHLO's rule). */
function readTarget({ raw, fail }: RuleFields): { protocol: ChaosProtocol; command: string } {
  const protocol = raw.protocol;
  if (protocol !== "smtp" && protocol !== "imap" && protocol !== "pop3") {
    fail("protocol", `must be "smtp", "imap" or "pop3"`);
  }
  if (typeof raw.command !== "string") fail("command", "must be a string");
  const command = (raw.command as string).trim().toUpperCase().replace(/\s+/g, " ");
  if (protocol === "smtp") {
    const smtpCommand = command === "HELO" ? "EHLO" : command;
    if (!(SMTP_COMMANDS as readonly string[]).includes(smtpCommand)) {
      fail("command", `must be one of ${SMTP_COMMANDS.join(", ")} for SMTP`);
    }
    return { protocol, command: smtpCommand };
  }
  if (protocol === "pop3") {
    if (command !== "*" && !(POP3_COMMANDS as readonly string[]).includes(command)) {
      fail("command", `must be one of ${POP3_COMMANDS.join(", ")} or * for POP3`);
    }
    return { protocol, command };
  }
  if (command !== "*" && !/^(UID )?[A-Z][A-Z0-9]{0,31}$/.test(command)) {
    fail("command", "must be an IMAP command name, CONNECT or *");
  }
  return { protocol: protocol as "imap", command };
}

/** `action` and `delayMs`. */
function readAction({ raw, fail, given }: RuleFields): { action: ChaosAction; delayMs: number } {
  const action = raw.action ?? "fail";
  if (action !== "fail" && action !== "delay" && action !== "drop") {
    fail("action", `must be "fail", "delay" or "drop"`);
  }
  const delayMs = given("delayMs") ? integer(raw.delayMs, 0, MAX_DELAY_MS) : 0;
  if (delayMs === null) {
    fail("delayMs", `must be a whole number of milliseconds, 0-${MAX_DELAY_MS}`);
  }
  if (action === "delay" && delayMs === 0) fail("delayMs", `must be over 0 for a delay`);
  return { action: action as ChaosAction, delayMs: delayMs! };
}

/** What a failure answers: `code`, `enhanced` (SMTP), `status` (IMAP) and `text`. */
function readFailure(
  { raw, fail, given }: RuleFields,
  protocol: ChaosProtocol,
  action: ChaosAction,
): Pick<ChaosRuleSpec, "code" | "enhanced" | "status" | "text"> {
  let code: number | string | null = null;
  let enhanced: string | null = null;
  let status: "NO" | "BAD" | null = null;
  let text: string | null = null;
  if (given("text")) {
    if (typeof raw.text !== "string" || raw.text.length > 200 || /[\x00-\x1f\x7f]/.test(raw.text)) {
      fail("text", "must be one line of at most 200 characters");
    }
    text = raw.text as string;
  }
  if (action === "fail" && protocol === "smtp") {
    const smtpCode = given("code") ? integer(raw.code, 400, 599) : 451;
    if (smtpCode === null) fail("code", "must be an SMTP reply code, 400-599");
    code = smtpCode;
    const klass = Math.floor(smtpCode! / 100);
    enhanced = given("enhanced") ? String(raw.enhanced) : `${klass}.0.0`;
    if (!/^[245]\.\d{1,3}\.\d{1,3}$/.test(enhanced) || Number(enhanced[0]) !== klass) {
      fail("enhanced", `must be an enhanced status code of class ${klass} (e.g. ${klass}.3.0)`);
    }
    if (given("status")) fail("status", "is for IMAP rules (SMTP uses code and enhanced)");
  } else if (action === "fail" && protocol === "pop3") {
    if (raw.code === null) code = null;
    else if (raw.code === undefined) code = "SYS/TEMP";
    else if (typeof raw.code !== "string" || !/^[A-Za-z][A-Za-z0-9/-]{0,40}$/.test(raw.code)) {
      fail("code", "must be a POP3 response code such as SYS/TEMP or IN-USE, or null");
    } else code = (raw.code as string).toUpperCase();
    for (const field of ["status", "enhanced"]) {
      if (given(field)) fail(field, "is not for POP3 rules (they use code and text)");
    }
  } else if (action === "fail") {
    status = raw.status === undefined || raw.status === null ? "NO" : raw.status as "NO";
    if (status !== "NO" && status !== "BAD") fail("status", `must be "NO" or "BAD"`);
    if (raw.code === null) code = null;
    else if (raw.code === undefined) code = "UNAVAILABLE";
    else if (
      typeof raw.code !== "string" || !/^[A-Za-z][A-Za-z0-9.-]{0,40}( [^\]\x00-\x1f\x7f]{1,100})?$/
        .test(raw.code)
    ) fail("code", "must be an IMAP response code such as UNAVAILABLE, or null");
    else code = (raw.code as string).replace(/^\S+/, (atom) => atom.toUpperCase());
    if (given("enhanced")) fail("enhanced", "is for SMTP rules");
  } else {
    for (const field of ["code", "enhanced", "status", "text"]) {
      if (given(field)) fail(field, `only applies to action "fail"`);
    }
  }
  return { code, enhanced, status, text };
}

/** How often the rule fires: `times`, `percent` and the `seed` of its draws. */
function readRepetition(
  { raw, fail, given }: RuleFields,
): Pick<ChaosRuleSpec, "times" | "percent" | "seed"> {
  const percent = given("percent") ? raw.percent : null;
  if (percent !== null && (typeof percent !== "number" || !(percent > 0 && percent <= 100))) {
    fail("percent", "must be a number over 0 and at most 100");
  }
  let times: number | null = null;
  if (given("times")) {
    times = integer(raw.times, 1, 1_000_000);
    if (times === null) fail("times", "must be a whole number, 1-1000000");
  } else if (percent === null) times = 1;
  const seed = given("seed") ? integer(raw.seed, 0, 0xffffffff) : 1;
  if (seed === null) fail("seed", "must be a whole number, 0-4294967295");
  return { times, percent: percent as number | null, seed: seed! };
}

/** Whom the rule applies to: `user` and `recipient`. */
function readFilters(
  { raw, fail, given }: RuleFields,
  protocol: ChaosProtocol,
  command: string,
): Pick<ChaosRuleSpec, "user" | "recipient"> {
  let user: string | null = null;
  if (given("user")) {
    if (typeof raw.user !== "string") fail("user", "must be a string");
    try {
      user = canonicalUserName(raw.user as string);
    } catch {
      fail("user", "is not a valid user name");
    }
    const known = protocol === "smtp"
      ? SMTP_USER_COMMANDS.includes(command)
      : command !== "CONNECT";
    if (!known) fail("user", `cannot apply to ${protocol.toUpperCase()} ${command}`);
  }
  let recipient: string | null = null;
  if (given("recipient")) {
    if (typeof raw.recipient !== "string" || !/^[^\s<>@]+(@[^\s<>@]+)?$/.test(raw.recipient)) {
      fail("recipient", "must be an address (local@domain) or a local part");
    }
    if (protocol !== "smtp" || !SMTP_RECIPIENT_COMMANDS.includes(command)) {
      fail("recipient", "only applies to SMTP RCPT and DATA");
    }
    recipient = (raw.recipient as string).toLowerCase();
  }
  return { user, recipient };
}

/** Validates one rule, an array of rules, or `{ "rules": [...] }`. */
export function parseChaosRules(input: unknown): ChaosRuleSpec[] {
  const list = Array.isArray(input) ? input : typeof input === "object" && input !== null &&
      Array.isArray((input as { rules?: unknown }).rules)
    ? (input as { rules: unknown[] }).rules
    : [input];
  if (list.length > MAX_RULES) throw new ChaosRuleError(`At most ${MAX_RULES} rules`);
  return list.map((item, i) => parseChaosRule(item, list.length > 1 ? `rule ${i + 1}` : "rule"));
}

/** Parses the `ELEKTROMAIL_CHAOS` text: JSON for one rule or a list. */
export function parseChaosText(text: string): ChaosRuleSpec[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ChaosRuleError(`not JSON: ${(error as Error).message}`);
  }
  return parseChaosRules(value);
}

function integer(value: unknown, min: number, max: number): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
    ? value
    : null;
}
