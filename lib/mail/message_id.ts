/**
 * Message-IDs as THREAD reads them (RFC 5256 4, RFC 5322 3.6.4): the `<id-left@id-right>`
 * items of Message-ID, References and In-Reply-To, without the angle brackets, white space
 * and comments inside removed. An item without `@` is not a Message-ID and is skipped, as
 * is anything between items (phrases in old In-Reply-To fields). One linear scan.
 *
 * @module
 */

/** Most ids read from one field: References of real mail hold tens. */
const MAX_IDS = 1000;

/**
 * The valid Message-IDs of a field value, in order.
 *
 * @example
 * ```ts
 * messageIds("<a@x> junk <no-at> < b (c) @y >"); // ["a@x", "b@y"]
 * ```
 */
export function messageIds(value: string): string[] {
  const ids: string[] = [];
  let i = value.indexOf("<");
  while (i >= 0 && ids.length < MAX_IDS) {
    let id = "";
    let depth = 0;
    let j = i + 1;
    for (; j < value.length; j++) {
      const ch = value[j];
      if (depth > 0) {
        if (ch === "(") depth++;
        else if (ch === ")") depth--;
        continue;
      }
      if (ch === ">" || ch === "<") break;
      if (ch === "(") depth = 1;
      else if (ch !== " " && ch !== "\t" && ch !== "\r" && ch !== "\n") id += ch;
    }
    if (j < value.length && value[j] === ">") {
      const at = id.indexOf("@");
      if (at > 0 && at < id.length - 1) ids.push(id);
      i = value.indexOf("<", j + 1);
    } else i = j < value.length ? j : -1;
  }
  return ids;
}
