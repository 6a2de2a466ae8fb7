/**
 * Logging to stderr. `traffic` lines are written only in verbose mode.
 *
 * @module
 */

import { utcFields } from "./mail/dates.ts";

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
  /** Protocol traffic: `label` names the connection, `direction` is `C` (client) or `S` (server). */
  traffic(label: string, direction: "C" | "S", text: string): void;
  readonly verbose: boolean;
}

const encoder = new TextEncoder();

function writeErr(line: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nothing left to tell.
  }
}

/** `HH:MM:SS.mmm` in UTC, without a `Date` (lib/mail/dates.ts says why). */
function stamp(): string {
  const { hour, minute, second, millisecond } = utcFields(Date.now());
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(hour)}:${pad(minute)}:${pad(second)}.${pad(millisecond, 3)}`;
}

/** A logger that writes to stderr; traffic only when `verbose`. */
export function stderrLogger(verbose: boolean): Logger {
  return {
    verbose,
    info: (message) => writeErr(`${stamp()} ${message}`),
    warn: (message) => writeErr(`${stamp()} WARN ${message}`),
    error: (message, error) => {
      const detail = error instanceof Error
        ? `\n${error.stack ?? error.message}`
        : error
        ? ` ${String(error)}`
        : "";
      writeErr(`${stamp()} ERROR ${message}${detail}`);
    },
    traffic: (label, direction, text) => {
      if (!verbose) return;
      for (const line of text.split(/\r?\n/)) {
        if (line === "") continue;
        writeErr(
          `${stamp()} ${label} ${direction}: ${
            line.length > 300 ? line.slice(0, 300) + "\u2026" : line
          }`,
        );
      }
    },
  };
}

/** A logger that drops everything except errors (for tests and embedding). */
export function quietLogger(): Logger {
  return { ...stderrLogger(false), info: () => {}, warn: () => {} };
}
