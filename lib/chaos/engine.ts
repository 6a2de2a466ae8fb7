/**
 * The fault-injection engine one server shares between SMTP, IMAP, POP3 and the control plane.
 * Protocol code asks {@linkcode Chaos.decide} at each injection point and gets the rule that
 * fires, or null; with no rules that question costs one comparison.
 *
 * Percentages come from a PRNG per rule (mulberry32) seeded by the rule, so the same
 * sequence of matching commands gets the same faults on every run.
 *
 * @module
 */

import {
  type ChaosProtocol,
  ChaosRuleError,
  type ChaosRuleSpec,
  MAX_RULES,
  parseChaosRules,
} from "./rules.ts";

/** A rule as the engine holds it and `GET /chaos` shows it. */
export interface ChaosRule extends ChaosRuleSpec {
  readonly id: number;
  /** `startup` (configuration; restored by reset) or `api` (cleared by reset). */
  readonly source: "startup" | "api";
  /** Commands that matched the rule's command and filters. */
  readonly matched: number;
  /** Faults injected. */
  readonly fired: number;
  /** Faults left, or null for no limit. */
  readonly remaining: number | null;
}

/** What an injection point knows; the engine only asks for what a rule filters on. */
export interface ChaosFacts {
  /** The user of the command (logged-in user, or a recipient's user). */
  user?(): string | null;
  /** Recipients of the SMTP transaction (`RCPT`: the one being added). */
  recipients?(): ReadonlyArray<{ readonly address: string; readonly user: string | null }>;
}

interface LiveRule {
  spec: ChaosRuleSpec;
  id: number;
  source: "startup" | "api";
  matched: number;
  fired: number;
  random: () => number;
}

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; returns values in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The rule set of one server. */
export class Chaos {
  readonly #startup: readonly ChaosRuleSpec[];
  #rules: LiveRule[] = [];
  #nextId = 1;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  /** `startup` rules come from the configuration; {@linkcode reset} restores them. */
  constructor(startup: readonly unknown[] = []) {
    this.#startup = parseChaosRules([...startup]);
    this.reset();
  }

  /** Whether any rule is set (injection points may skip gathering facts when not). */
  get active(): boolean {
    return this.#rules.length > 0;
  }

  /** Adds validated rules; throws {@linkcode ChaosRuleError} past {@linkcode MAX_RULES}. */
  add(specs: readonly ChaosRuleSpec[], source: "startup" | "api" = "api"): ChaosRule[] {
    if (this.#rules.length + specs.length > MAX_RULES) {
      throw new ChaosRuleError(`Cannot add rules: at most ${MAX_RULES} may be set`);
    }
    const added = specs.map((spec) => ({
      spec,
      id: this.#nextId++,
      source,
      matched: 0,
      fired: 0,
      random: mulberry32(spec.seed),
    }));
    this.#rules.push(...added);
    return added.map(view);
  }

  list(): ChaosRule[] {
    return this.#rules.map(view);
  }

  /** Removes one rule; false when there is none with that id. */
  remove(id: number): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((rule) => rule.id !== id);
    return this.#rules.length < before;
  }

  /** Removes every rule (startup ones too, until the next reset). Returns how many. */
  clear(): number {
    const count = this.#rules.length;
    this.#rules = [];
    return count;
  }

  /** The initial state: the startup rules with fresh counters and PRNGs, ids from 1. */
  reset(): void {
    this.#rules = [];
    this.#nextId = 1;
    this.add(this.#startup, "startup");
  }

  /**
   * The rule that fires for this command, or null. Rules are tried in id order; each
   * matching rule counts the match and, with a percentage, draws from its PRNG.
   */
  decide(protocol: ChaosProtocol, command: string, facts: ChaosFacts = {}): ChaosRule | null {
    if (this.#rules.length === 0) return null;
    for (const rule of this.#rules) {
      const { spec } = rule;
      if (spec.protocol !== protocol || !commandMatches(spec.command, command)) continue;
      if (spec.times !== null && rule.fired >= spec.times) continue;
      if (!filtersMatch(spec, facts)) continue;
      rule.matched++;
      if (spec.percent !== null && rule.random() * 100 >= spec.percent) continue;
      rule.fired++;
      return view(rule);
    }
    return null;
  }

  /** Runs `fn` after `ms`; {@linkcode close} cancels what is still waiting. */
  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  /** A promise that resolves after `ms` (never, once {@linkcode close} has run). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.later(ms, resolve));
  }

  /** Cancels pending delays: the server is stopping and their sessions are gone. */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

/** `FETCH` matches `FETCH` and `UID FETCH`; `*` matches every command but `CONNECT`. */
function commandMatches(ruleCommand: string, command: string): boolean {
  if (ruleCommand === command) return true;
  if (ruleCommand === "*") return command !== "CONNECT";
  return command.startsWith("UID ") && command.slice(4) === ruleCommand;
}

function filtersMatch(spec: ChaosRuleSpec, facts: ChaosFacts): boolean {
  if (spec.recipient !== null) {
    const recipients = facts.recipients?.() ?? [];
    if (!recipients.some((r) => recipientMatches(spec.recipient!, r.address))) return false;
  }
  if (spec.user !== null) {
    if (facts.recipients) {
      if (!facts.recipients().some((r) => r.user === spec.user)) return false;
    } else if (facts.user?.() !== spec.user) return false;
  }
  return true;
}

/** An address filter matches exactly (case-insensitive); a bare local part matches any domain. */
export function recipientMatches(filter: string, address: string): boolean {
  const lower = address.toLowerCase();
  if (filter.includes("@")) return lower === filter;
  const at = lower.lastIndexOf("@");
  return (at < 0 ? lower : lower.slice(0, at)) === filter;
}

function view(rule: LiveRule): ChaosRule {
  const { spec } = rule;
  return {
    id: rule.id,
    source: rule.source,
    ...spec,
    matched: rule.matched,
    fired: rule.fired,
    remaining: spec.times === null ? null : spec.times - rule.fired,
  };
}
