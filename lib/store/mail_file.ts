/**
 * The SQLite store's mail file, `<database>.mail`: the bytes of each new message appended
 * after the last, the `blobs` row saying where (`file_offset`, `file_length`). A read is one
 * `pread` of the message's bytes; from SQLite it was one a page (a 21 KB message is ~6 pages of
 * 4 KiB, each its own system call through the blob's overflow chain), and a write went to the
 * WAL and again to the database file. What Dovecot's mdbox does with its m.* files. Issue 13,
 * round 25, a script writing 5,000 messages of 21.6 KB and reading each back: 50-55 ms to
 * write them here against 515-605 into a blob table (a commit every eight), 31-35 ms to read
 * them against 78-87.
 *
 * Bytes are never overwritten: a message's bytes stay until the file is emptied (the store's
 * reset, `truncate`), so a read sees the bytes that were appended for that message whatever was
 * deleted since. Bytes appended for a transaction that rolled back, or of a message deleted
 * since, stay as dead space, as in mdbox until `doveadm purge`.
 *
 * Durability: the bytes are written (to the page cache) before the transaction that names them
 * commits, so a committed message survives a crash of the process as its row does. Power loss
 * may lose what the system had not written back: the store syncs the file before each
 * checkpoint copies the WAL into the database file (the checkpoint worker), and a message whose
 * bytes end past the file's end at open is dropped, as SQLite drops a transaction the WAL lost.
 *
 * @module
 */

import {
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  writeSync,
} from "node:fs";

/** An open mail file; one per store, used on the event loop's thread only. */
export class MailFile {
  readonly path: string;
  #fd: number;
  /** Where the next bytes go: the file's size. */
  #end: number;

  /** Opens the file at `path`, creating it if `create` (else it must exist); throws if not. */
  constructor(path: string, create: boolean) {
    this.path = path;
    this.#fd = openSync(path, constants.O_RDWR | (create ? constants.O_CREAT : 0));
    this.#end = fstatSync(this.#fd).size;
  }

  /** The file's size in bytes. */
  get size(): number {
    return this.#end;
  }

  /** Appends `bytes`; returns where they start. Throws if they could not all be written. */
  append(bytes: Uint8Array): number {
    const offset = this.#end;
    let written = 0;
    try {
      while (written < bytes.length) {
        written += writeSync(this.#fd, bytes, written, bytes.length - written, offset + written);
      }
    } catch (error) {
      // A full disk may have taken part of them: the next bytes go after whatever is there.
      this.#end = fstatSync(this.#fd).size;
      throw error;
    }
    this.#end = offset + written;
    return offset;
  }

  /**
   * The `length` bytes at `offset`, in a new buffer of their own. Throws if the file ends
   * before them.
   */
  read(offset: number, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    let read = 0;
    while (read < length) {
      const got = readSync(this.#fd, bytes, read, length - read, offset + read);
      if (got === 0) {
        throw new Error(
          `Cannot read message bytes: ${this.path} ends at ${offset + read}, before ${
            offset + length
          }`,
        );
      }
      read += got;
    }
    return bytes;
  }

  /** Empties the file: no stored message may name bytes in it any more. */
  truncate(): void {
    ftruncateSync(this.#fd, 0);
    this.#end = 0;
  }

  /** Writes the file's bytes through to the disk. */
  sync(): void {
    fdatasyncSync(this.#fd);
  }

  close(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }
}

/** The mail file of the database file at `path`. */
export function mailFilePath(path: string): string {
  return `${path}.mail`;
}
