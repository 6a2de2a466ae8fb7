/**
 * The SQLite store's mail file, `<database>.mail`: the bytes of each new message appended
 * after the last, the `blobs` row saying where (`file_offset`, `file_length`). A read is a seek
 * and one read of the message's bytes; from SQLite it was a read a page (a 21 KB message is ~6
 * pages of 4 KiB, through the blob's overflow chain), and a write went to the WAL and again to
 * the database file. What Dovecot's mdbox does with its m.* files. Issue 13, round 25, a script
 * writing 5,000 messages of 21.6 KB and reading each back: 48-68 ms to write them here against
 * 676-687 into a blob table (WAL, a commit every eight), 36-39 ms a round to read them against
 * 76-87.
 *
 * Bytes are never overwritten: a message's bytes stay until the file is emptied (the store's
 * reset, `truncate`), so a read sees the bytes that were appended for that message whatever was
 * deleted since. Bytes appended for a transaction that rolled back, or of a message deleted
 * since, stay as dead space, as in mdbox until `doveadm purge`, until a compaction when the
 * store opens (sqlite_mail_file.ts).
 *
 * Durability: the bytes are written (to the page cache) before the transaction that names them
 * commits, so a committed message survives a crash of the process as its row does. Power loss
 * may lose what the system had not written back: the checkpoint worker syncs the file once
 * writes pause (sqlite_checkpoint_worker.ts), and a message whose bytes end past the file's end
 * at open is dropped, as SQLite drops the transactions a power loss took from its WAL.
 *
 * @module
 */

/** An open mail file; one per store, used on the event loop's thread only. */
export class MailFile {
  readonly path: string;
  // Deno's file API rather than node:fs's positioned reads (one system call a read, not a seek
  // and a read): node:fs costs the SQLite server 2.8 MB of idle memory (64.5-64.8 MB against
  // 61.5-61.9, bench/idle_rss.ts --store sqlite) for ~1 us a read (a script reading 5,000
  // messages of 21.6 KB: 35-42 ms against 40-51).
  #file: Deno.FsFile | null;
  /** Where the next bytes go: the file's size. */
  #end: number;
  /**
   * The file's offset where the last read left it, or -1 when unknown (after a write, a failed
   * read, a truncation): a read that starts there needs no seek. A `FETCH 1:* BODY.PEEK[]`
   * reads messages stored one after the other; their 5,000 seeks took 3-6 ms of the 29-38 ms
   * of a script reading 5,000 messages of 21.6 KB (six rounds each; issue 13, round 33).
   */
  #position = -1;

  /**
   * Opens the file at `path`, creating it if `create` (else it must exist: `Deno.errors.NotFound`
   * if not); throws if it cannot.
   */
  constructor(path: string, create: boolean) {
    this.path = path;
    // Appending: every write goes to the end whatever a read sought.
    this.#file = Deno.openSync(path, { read: true, append: true, create });
    try {
      this.#end = this.#file.statSync().size;
    } catch (error) {
      this.#file.close();
      throw error;
    }
  }

  /** The file's size in bytes. */
  get size(): number {
    return this.#end;
  }

  #open(): Deno.FsFile {
    if (!this.#file) throw new Error(`Cannot use ${this.path}: it is closed`);
    return this.#file;
  }

  /** Appends `bytes`; returns where they start. Throws if they could not all be written. */
  append(bytes: Uint8Array): number {
    const file = this.#open();
    const offset = this.#end;
    // A write to a file opened to append moves the file's offset to its end.
    this.#position = -1;
    let written = 0;
    try {
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    } catch (error) {
      // A full disk may have taken part of them: the next bytes go after whatever is there.
      this.#end = file.statSync().size;
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
    const file = this.#open();
    const bytes = new Uint8Array(length);
    if (this.#position !== offset) file.seekSync(offset, Deno.SeekMode.Start);
    // Unknown until the read has returned every byte asked for.
    this.#position = -1;
    let read = 0;
    while (read < length) {
      const got = file.readSync(bytes.subarray(read));
      if (got === null || got === 0) {
        throw new Error(
          `Cannot read message bytes: ${this.path} ends at ${offset + read}, before ${
            offset + length
          }`,
        );
      }
      read += got;
    }
    this.#position = offset + length;
    return bytes;
  }

  /** Empties the file: no stored message may name bytes in it any more. */
  truncate(): void {
    this.#open().truncateSync(0);
    this.#end = 0;
    this.#position = -1;
  }

  /** Writes the file's bytes through to the disk. */
  sync(): void {
    this.#open().syncDataSync();
  }

  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}

/** The mail file of the database file at `path`. */
export function mailFilePath(path: string): string {
  return `${path}.mail`;
}
