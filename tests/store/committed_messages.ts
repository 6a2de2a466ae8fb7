/**
 * How many messages a SQLite file holds as another connection sees it: what is committed, for
 * the tests of when a commit is made.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

/** Messages committed to the file at `path`. */
export function committedMessages(path: string): number {
  const db = new DatabaseSync(path);
  try {
    return Number(db.prepare("SELECT count(*) AS n FROM messages").get()!.n);
  } finally {
    db.close();
  }
}
