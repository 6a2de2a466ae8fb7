/**
 * Just enough of Cypress (`Cypress.env/config/expose/Commands.add`, `cy.request/wrap/env/
 * wait/verifyUpcomingAssertions`, `.then/.its/.should`) to run the published
 * `cypress-mailhog` and `cypress-mailpit` command code itself against a live server, so the
 * tests send exactly the requests those helpers send. `cy.request` follows Cypress: a JSON
 * body for an object `body`, `qs` as the query, a failure for a status outside 2xx/3xx unless
 * `failOnStatusCode: false`, and a JSON body parsed when the answer is JSON.
 *
 * @module
 */

/** One request a command sent, for the tests to check. */
export interface SentRequest {
  method: string;
  url: string;
  contentType: string | null;
  body: string | null;
}

/** A Cypress chain over a promise: `.then` yields the callback's value, or the subject. */
export class Chain<T = unknown> {
  constructor(readonly promise: Promise<T>) {}
  then<U>(fn: (value: T) => U | Chain<U>): Chain<U> {
    return new Chain(this.promise.then(async (value) => {
      const out = fn(value);
      const resolved = out instanceof Chain ? await out.promise : out;
      return (resolved === undefined ? value : resolved) as U;
    }));
  }
  its(name: string): Chain {
    return this.then((value) => (value as Record<string, unknown>)[name]);
  }
  /** The two chainers the helpers use. */
  should(chainer: string, expected?: number): Chain<T> {
    return this.then((value) => {
      const length = (value as unknown[]).length;
      if (chainer === "not.have.length" && length === expected) {
        throw new Error(`expected length not to be ${expected}`);
      }
      if (chainer === "to.have.length.greaterThan" && !(length > expected!)) {
        throw new Error(`expected length above ${expected}, got ${length}`);
      }
      return value;
    });
  }
}

type Command = (...args: unknown[]) => unknown;

/** The shim's state: settings the helpers read, the commands they add, what they sent. */
export interface CypressShim {
  settings: Record<string, unknown>;
  commands: Map<string, { prevSubject: boolean; fn: Command }>;
  sent: SentRequest[];
  /**
   * Chains started by `cy.*` calls: Cypress queues a command whose chain is not returned
   * (`cy.mhGetMailsBySubject(s).should(...)`) and fails the test when it fails.
   */
  pending: Promise<unknown>[];
  /** Runs a command as `cy.NAME(...)` (or `subject.NAME(...)`) and awaits its subject. */
  run(name: string, ...args: unknown[]): Promise<unknown>;
}

async function request(shim: CypressShim, options: Record<string, unknown>) {
  const url = new URL(String(options.url));
  for (const [key, value] of Object.entries((options.qs ?? {}) as Record<string, unknown>)) {
    url.searchParams.set(key, String(value));
  }
  const headers: Record<string, string> = { accept: "*/*" };
  let body: string | null = null;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (typeof options.body !== "string") headers["content-type"] = "application/json";
  }
  const method = String(options.method ?? "GET");
  shim.sent.push({ method, url: url.href, contentType: headers["content-type"] ?? null, body });
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  if (options.failOnStatusCode !== false && response.status >= 400) {
    throw new Error(`cy.request failed: ${response.status} ${text}`);
  }
  const type = response.headers.get("content-type") ?? "";
  let parsed: unknown = text;
  if (type.includes("json") && text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      // Cypress keeps text it cannot parse
    }
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Installs `Cypress` and `cy` on the global object (once per process: modules are cached). */
export function installCypress(): CypressShim {
  const shim: CypressShim = {
    settings: {},
    commands: new Map(),
    sent: [],
    pending: [],
    async run(name, ...args) {
      const command = shim.commands.get(name);
      if (!command) throw new Error(`No command ${name}`);
      shim.pending = [];
      const out = command.fn(...args);
      const value = out instanceof Chain ? await out.promise : out;
      // Then whatever was queued, as Cypress runs its queue (new entries included).
      for (let i = 0; i < shim.pending.length; i++) await shim.pending[i];
      return value;
    },
  };
  const setting = (name: string) => shim.settings[name];
  const global = globalThis as Record<string, unknown>;
  global.Cypress = {
    env: setting,
    config: setting,
    expose: setting,
    Commands: {
      add(name: string, options: unknown, fn?: Command) {
        const prevSubject = typeof options === "object" && options !== null &&
          (options as { prevSubject?: boolean }).prevSubject === true;
        const command = (fn ?? options) as Command;
        shim.commands.set(name, { prevSubject, fn: command });
        // A parent command is `cy.NAME(...)` for the commands that call each other.
        if (!prevSubject) {
          (global.cy as Record<string, unknown>)[name] = (...args: unknown[]) => {
            const out = command(...args);
            return queued(out instanceof Chain ? out : new Chain(Promise.resolve(out)));
          };
        }
      },
    },
  };
  /** A chain whose end (with what `.should` adds later) the run waits for. */
  const queued = <T>(chain: Chain<T>): Chain<T> => {
    const tracked = new Chain(chain.promise);
    const then = tracked.then.bind(tracked);
    const should = tracked.should.bind(tracked);
    tracked.should = (chainer: string, expected?: number) => {
      const next = should(chainer, expected);
      shim.pending.push(next.promise);
      return next;
    };
    tracked.then = then;
    shim.pending.push(tracked.promise.catch(() => {}));
    return tracked;
  };
  global.cy = {
    request: (options: Record<string, unknown>) => new Chain(request(shim, options)),
    wrap: (value: unknown) => new Chain(Promise.resolve(value)),
    env: (names: string[]) =>
      new Chain(Promise.resolve(Object.fromEntries(names.map((n) => [n, undefined])))),
    wait: (ms: number) => new Chain(new Promise((done) => setTimeout(done, ms))),
    verifyUpcomingAssertions: (value: unknown) => new Chain(Promise.resolve(value)),
  };
  return shim;
}
