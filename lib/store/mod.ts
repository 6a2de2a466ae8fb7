/**
 * Opening a store: memory by default, SQLite when a path is given.
 *
 * @module
 */

export * from "./types.ts";
export { openMemoryStore } from "./memory.ts";
export { openSqliteStore } from "./sqlite.ts";
export { canonicalUserName } from "./names.ts";
