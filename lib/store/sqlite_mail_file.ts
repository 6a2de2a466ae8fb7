/**
 * Opening the SQLite store's mail file (mail_file.ts) with its database: created if no row
 * names it, an error if one does and it is missing; a message whose bytes end past the file's
 * end (the system lost them in a power loss, where the WAL kept its row) is dropped with a
 * warning; a store with no message left empties it; and a file whose dead bytes (expunged
 * messages', rolled-back appends') are more than its live ones, and at least
 * {@linkcode COMPACT_MIN_DEAD_BYTES}, is compacted, as `doveadm purge` does for mdbox.
 *
 * A compaction writes the live bytes to `<file>.mail.new` and syncs it, then commits the new
 * offsets with a row in `mail_compaction` (synced: `synchronous=FULL` for that commit), then
 * renames the new file over the old one and deletes the row. A crash at any point leaves a
 * state the next open finishes: no row, the new file is a leftover and is removed; a row, the
 * rename is done if the new file is still there, and the row deleted.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { MailFile, mailFilePath } from "./mail_file.ts";

/** Dead bytes from which a mail file is compacted at open (if also more than its live ones). */
export const COMPACT_MIN_DEAD_BYTES = 16 * 1024 * 1024;

/** {@linkcode openMailFile}'s options. */
export interface OpenMailFileOptions {
  /** Where a dropped message or a failed compaction is told. */
  warn: (message: string) => void;
  /** {@linkcode COMPACT_MIN_DEAD_BYTES} unless given (tests). */
  compactMinDeadBytes?: number;
}

/**
 * Opens the mail file of the database `db` at `path` (see the module documentation). Throws
 * if it is missing while rows name it, or cannot be opened.
 */
export function openMailFile(
  db: DatabaseSync,
  path: string,
  options: OpenMailFileOptions,
): MailFile {
  const mailPath = mailFilePath(path);
  finishCompaction(db, mailPath);
  const named = db.prepare(
    "SELECT count(*) AS n, coalesce(sum(file_length), 0) AS live, " +
      "coalesce(max(file_offset + file_length), 0) AS end FROM blobs WHERE file_offset IS NOT NULL",
  ).get()!;
  let mail: MailFile;
  try {
    mail = new MailFile(mailPath, Number(named.n) === 0);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(
      `its mail file ${mailPath} is missing (it holds the bytes of ${messages(named.n)})`,
    );
  }
  try {
    if (Number(named.n) === 0 && mail.size > 0) mail.truncate();
    if (mail.size < Number(named.end)) {
      const lost = `SELECT id FROM blobs WHERE file_offset + file_length > ${mail.size}`;
      db.exec("BEGIN IMMEDIATE");
      const dropped = db.prepare(`DELETE FROM messages WHERE blob_id IN (${lost})`).run();
      db.exec(`DELETE FROM blobs WHERE id IN (${lost}); COMMIT`);
      options.warn(
        `${path}: ${messages(dropped.changes)} dropped: their bytes were lost from ` +
          `${mailPath}, which ends at byte ${mail.size} (a power loss?)`,
      );
      return mail;
    }
    const live = Number(named.live);
    const dead = mail.size - live;
    if (dead > live && dead >= (options.compactMinDeadBytes ?? COMPACT_MIN_DEAD_BYTES)) {
      return compact(db, mail, options.warn);
    }
    return mail;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    mail.close();
    throw error;
  }
}

/** Finishes (or clears away) a compaction a crash interrupted. */
function finishCompaction(db: DatabaseSync, mailPath: string): void {
  const newPath = `${mailPath}.new`;
  const pending = Number(db.prepare("SELECT count(*) AS n FROM mail_compaction").get()!.n) > 0;
  if (!pending) {
    // A leftover of a compaction that never committed: no row names its bytes.
    tryToRemove(newPath);
    return;
  }
  // The new offsets are committed: the new file is the one they name.
  if (exists(newPath)) {
    Deno.renameSync(newPath, mailPath);
    syncDirectoryOf(mailPath);
  }
  db.exec("DELETE FROM mail_compaction");
}

/**
 * Rewrites `mail` with the bytes rows name, in their order, and returns the new file; on any
 * failure before the new offsets commit, the old file, untouched, with a warning.
 */
function compact(db: DatabaseSync, mail: MailFile, warn: (message: string) => void): MailFile {
  const newPath = `${mail.path}.new`;
  const rows = db.prepare(
    "SELECT id, file_offset, file_length FROM blobs WHERE file_offset IS NOT NULL " +
      "ORDER BY file_offset",
  ).all();
  const moved: number[] = [];
  let next: MailFile | null = null;
  try {
    // Opening it fails (and the compaction with it) if the name is not a file's: a leftover the
    // open could not remove (finishCompaction).
    next = new MailFile(newPath, true);
    for (const row of rows) {
      const bytes = mail.read(Number(row.file_offset), Number(row.file_length));
      moved.push(next.append(bytes));
      (bytes.buffer as ArrayBuffer).transfer(0);
    }
    next.sync();
    db.exec("PRAGMA synchronous = FULL; BEGIN IMMEDIATE");
    const update = db.prepare("UPDATE blobs SET file_offset = ? WHERE id = ?");
    for (let i = 0; i < rows.length; i++) update.run(moved[i], Number(rows[i].id));
    db.exec("INSERT INTO mail_compaction (pending) VALUES (1); COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    next?.close();
    tryToRemove(newPath);
    warn(`${mail.path}: not compacted: ${(error as Error).message}`);
    return mail;
  } finally {
    db.exec("PRAGMA synchronous = NORMAL");
  }
  mail.close();
  next?.close();
  finishCompaction(db, mail.path);
  return new MailFile(mail.path, false);
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Removes the file at `path` if it can: not there, or not a file (a directory?), it stays. */
function tryToRemove(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // A compaction that needs the name says why it cannot run.
  }
}

/** Syncs the directory holding `path`, so that a rename in it survives a power loss. */
function syncDirectoryOf(path: string): void {
  const slash = path.lastIndexOf("/");
  try {
    using directory = Deno.openSync(slash > 0 ? path.slice(0, slash) : ".", { read: true });
    directory.syncSync();
  } catch {
    // Not every system opens or syncs a directory: best effort.
  }
}

/** "1 stored message", "2 stored messages". */
function messages(count: unknown): string {
  return `${count} stored message${Number(count) === 1 ? "" : "s"}`;
}
