/**
 * Wildcard matching for mailbox patterns (RFC 9051 6.3.9): `*` matches any run of
 * characters, `%` any run without the hierarchy delimiter, every other character itself.
 *
 * Names and patterns come from clients, so the matcher must not backtrack: a regular
 * expression for `*a*a*a*b` took minutes on a 1,000-character name. This one simulates the
 * pattern as an automaton, one row of states per name character (a one-row dynamic
 * programme over pattern x name): at most O(name x pattern) steps, and far fewer in
 * practice, since only the window of states that can still lead to a match is visited.
 * Runs of wildcards collapse first (`**`, `*%`, `%*` -> `*`; `%%` -> `%`), so a long pattern
 * with more literal characters than the name is refused without any step at all.
 *
 * @module
 */

/** Token for `*`. Literal tokens are code points (never negative). */
const ANY = -1;
/** Token for `%`. */
const LEVEL = -2;

/**
 * Compiles `pattern` into a predicate over names. Characters are compared as code points,
 * exactly (case rules such as INBOX's are the caller's business).
 *
 * @example
 * ```ts
 * const match = compileWildcard("Work/%", "/");
 * match("Work/Projects"); // true
 * match("Work/Projects/Alpha"); // false
 * ```
 */
export function compileWildcard(pattern: string, delimiter: string): (name: string) => boolean {
  const tokens = tokenize(pattern);
  const m = tokens.length;
  // literalsFrom[j]: literal tokens in tokens[j..m), each of which needs one name character.
  const literalsFrom = new Int32Array(m + 1);
  for (let j = m - 1; j >= 0; j--) literalsFrom[j] = literalsFrom[j + 1] + (tokens[j] >= 0 ? 1 : 0);
  const delimiterPoint = delimiter.codePointAt(0)!;
  // One row of states reused across calls: matching is synchronous, so never shared midway.
  const row = new Uint8Array(m + 1);

  return (name) => {
    const chars = codePoints(name);
    const n = chars.length;
    if (literalsFrom[0] > n) return false;
    row.fill(0);
    // State j: tokens[0..j) have matched the characters read so far.
    row[0] = 1;
    let hi = close(0, 0);
    let lo = 0;
    for (let i = 0; i < n; i++) {
      const char = chars[i];
      // Downwards, so state j+1 already holds its next value when state j moves into it.
      for (let j = hi; j >= lo; j--) {
        if (row[j] === 0) continue;
        if (j === m) {
          row[j] = 0; // a complete match followed by another character
          continue;
        }
        const token = tokens[j];
        if (token === char) row[j + 1] = 1;
        row[j] = token === ANY || (token === LEVEL && char !== delimiterPoint) ? 1 : 0;
      }
      if (hi < m) hi++;
      while (hi >= lo && row[hi] === 0) hi--;
      // States that still need more literal characters than the name has left are dead, and
      // no state below the lowest live one can come back (moves only go up).
      const left = n - i - 1;
      while (lo <= hi && (row[lo] === 0 || literalsFrom[lo] > left)) row[lo++] = 0;
      if (lo > hi) return false;
      hi = close(lo, hi);
    }
    return row[m] === 1;
  };

  /** Adds the states reachable by letting a wildcard match nothing; returns the highest. */
  function close(from: number, hi: number): number {
    for (let j = from; j < m && j <= hi; j++) {
      if (row[j] === 1 && tokens[j] < 0) {
        row[j + 1] = 1;
        if (j + 1 > hi) hi = j + 1;
      }
    }
    return hi;
  }
}

/** The pattern as tokens, with runs of wildcards collapsed into one (same language). */
function tokenize(pattern: string): number[] {
  const tokens: number[] = [];
  for (const point of codePoints(pattern)) {
    const token = point === 0x2a ? ANY : point === 0x25 ? LEVEL : point;
    const last = tokens.length > 0 ? tokens[tokens.length - 1] : 0;
    if (token < 0 && last < 0) {
      tokens[tokens.length - 1] = token === ANY || last === ANY ? ANY : LEVEL;
    } else tokens.push(token);
  }
  return tokens;
}

/** The code points of `text` (a lone surrogate is one, as a `u` regular expression sees it). */
function codePoints(text: string): number[] {
  const points: number[] = [];
  for (const char of text) points.push(char.codePointAt(0)!);
  return points;
}
