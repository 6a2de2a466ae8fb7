/**
 * The bundle's post-processing (scripts/bundle.ts): drops the comments `deno bundle` keeps
 * (the modules' JSDoc and line comments) and writes every non-ASCII character of a string or
 * regular expression literal as a `\uXXXX` escape, leaving the code itself, its names and its
 * line breaks as they are, so that a stack trace still names the functions and a readable line
 * of `dist/bundle/`.
 *
 * Why: V8 holds each module's source text for as long as the process runs, as a one-byte
 * string when every character of it is Latin-1 and as a two-byte string (twice the size)
 * otherwise, and a single `…` in a comment made the whole 358 KB `main.js` two-byte. Measured
 * from the bundle (issue 13, `/proc/<pid>/smaps` 6 s after start, no connection, three
 * alternating runs): ASCII-only `main.js` 53.2–53.8 MB vs 54.2–54.5, and without comments too
 * 52.5–53.3 (docs/performance-history.md, Startup and idle, round 9).
 *
 * It is a scanner, not a parser: it tells comments from strings, template literals and
 * regular expressions the way a JavaScript tokenizer does (a `/` after an operand divides,
 * anywhere else it starts a regular expression), which is enough for the code esbuild prints.
 * Legal comments (`/*!`, `@license`, `@preserve`) are kept. When the text does not end where
 * a scanner expects (inside a string, a comment or a literal), it returns null and the caller
 * keeps the file as it was.
 *
 * @module
 */

/** Words after which a `/` starts a regular expression, although they look like operands. */
const KEYWORDS_BEFORE_EXPRESSION = new Set([
  "await",
  "case",
  "delete",
  "do",
  "else",
  "in",
  "instanceof",
  "new",
  "of",
  "return",
  "throw",
  "typeof",
  "void",
  "yield",
]);

/** Whether `code` (a UTF-16 unit) can be part of an identifier, a number or a private name. */
function isWordChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) || code === 0x24 || code === 0x5f || code === 0x23 ||
    code > 0x7f;
}

/** `\uXXXX` for a UTF-16 unit above ASCII, the character itself otherwise. */
function escaped(char: string): string {
  const code = char.charCodeAt(0);
  return code > 0x7f ? `\\u${code.toString(16).padStart(4, "0")}` : char;
}

/** Whether a block comment is one a license asks to keep. */
function isLegal(comment: string): boolean {
  return comment.startsWith("/*!") || comment.includes("@license") ||
    comment.includes("@preserve");
}

/**
 * `source` without its comments (a line left blank by one is dropped) and with the non-ASCII
 * characters of its string and regular expression literals escaped; null when it cannot be
 * scanned to its end.
 *
 * @example
 * ```ts
 * stripComments('/** Doc. *\/\nconst a = "…"; // why\n'); // 'const a = "\\u2026";\n'
 * ```
 */
export function stripComments(source: string): string | null {
  let out = "";
  let i = 0;
  /** What the last token was, to tell a division from a regular expression. */
  let operand = false;
  /** The word just scanned (an identifier or keyword), or "" after any other token. */
  let word = "";
  /** Where the output's current line starts, and whether a comment was dropped from it. */
  let lineStart = 0;
  let dropped = false;
  /** Whether the current line started in code (not inside a template literal's text). */
  let lineInCode = true;
  /** For each open `${`, the depth of braces inside it; empty when not in a substitution. */
  const substitutions: number[] = [];
  const n = source.length;

  /** Ends the output's line; `inCode`: whether the newline is in code, not in a template. */
  const newline = (inCode: boolean) => {
    // A line a comment was dropped from loses the blanks that are left, or all of it; not a
    // template literal's text.
    if (dropped && inCode) {
      if (lineInCode && out.slice(lineStart).trim() === "") out = out.slice(0, lineStart);
      else out = out.slice(0, lineStart) + out.slice(lineStart).trimEnd() + "\n";
    } else out += "\n";
    lineStart = out.length;
    dropped = false;
    lineInCode = inCode;
  };

  /** Scans a template literal's text from after its backtick or `}`; false if unterminated. */
  const templateText = (tagged: boolean): boolean => {
    while (i < n) {
      const char = source[i];
      if (char === "\\") {
        out += source.slice(i, i + 2);
        i += 2;
      } else if (char === "`") {
        out += char;
        i++;
        operand = true;
        word = "";
        return true;
      } else if (char === "$" && source[i + 1] === "{") {
        out += "${";
        i += 2;
        substitutions.push(0);
        operand = false;
        word = "";
        return true;
      } else if (char === "\n") {
        i++;
        newline(false);
      } else {
        // A tagged template's tag sees the raw text: escaping would change it.
        out += tagged ? char : escaped(char);
        i++;
      }
    }
    return false;
  };

  if (source.startsWith("#!")) {
    const end = source.indexOf("\n");
    i = end < 0 ? n : end;
    out = source.slice(0, i);
  }
  while (i < n) {
    const char = source[i];
    const next = source[i + 1];
    if (char === "\n") {
      i++;
      newline(true);
      // Indentation means nothing to the parser (a line break may; it stays).
      while (source[i] === " " || source[i] === "\t") i++;
    } else if (char === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      i = end < 0 ? n : end;
      dropped = true;
    } else if (char === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      if (end < 0) return null;
      const comment = source.slice(i, end + 2);
      i = end + 2;
      if (isLegal(comment)) out += comment;
      else dropped = true;
    } else if (char === "'" || char === '"') {
      let j = i + 1;
      let text = char;
      while (j < n && source[j] !== char) {
        if (source[j] === "\n") return null;
        if (source[j] === "\\") {
          text += source.slice(j, j + 2);
          j += 2;
        } else text += escaped(source[j++]);
      }
      if (j >= n) return null;
      out += text + char;
      i = j + 1;
      operand = true;
      word = "";
    } else if (char === "`") {
      const tagged = operand && !KEYWORDS_BEFORE_EXPRESSION.has(word);
      out += char;
      i++;
      if (!templateText(tagged)) return null;
    } else if (char === "}" && substitutions.length > 0 && substitutions.at(-1) === 0) {
      substitutions.pop();
      out += char;
      i++;
      if (!templateText(false)) return null;
    } else if (char === "/" && !(operand && !KEYWORDS_BEFORE_EXPRESSION.has(word))) {
      // A regular expression: up to the `/` outside a class and an escape, then its flags.
      let j = i + 1;
      let inClass = false;
      let text = "/";
      while (j < n && (inClass || source[j] !== "/")) {
        const c = source[j];
        if (c === "\n") return null;
        if (c === "\\") {
          text += source.slice(j, j + 2);
          j += 2;
          continue;
        }
        if (c === "[") inClass = true;
        else if (c === "]") inClass = false;
        text += escaped(c);
        j++;
      }
      if (j >= n) return null;
      const flags = ++j;
      while (j < n && isWordChar(source.charCodeAt(j))) j++;
      out += text + source.slice(flags - 1, j);
      i = j;
      operand = true;
      word = "";
    } else if ((char === "+" || char === "-") && next === char && operand) {
      // A postfix `++` or `--` leaves an operand: a `/` after it divides.
      out += char + next;
      i += 2;
    } else if (isWordChar(source.charCodeAt(i))) {
      let j = i + 1;
      while (j < n && isWordChar(source.charCodeAt(j))) j++;
      word = source.slice(i, j);
      out += word;
      i = j;
      operand = true;
    } else {
      if (char === "{" && substitutions.length > 0) substitutions[substitutions.length - 1]++;
      if (char === "}" && substitutions.length > 0) substitutions[substitutions.length - 1]--;
      out += char;
      i++;
      if (char !== " " && char !== "\t" && char !== "\r") {
        // `)` and `]` end an operand; `}` is taken to end a block, after which a `/` starts
        // a regular expression.
        operand = char === ")" || char === "]";
        word = "";
      }
    }
  }
  if (substitutions.length > 0) return null;
  // The last line, when the source does not end with a newline.
  if (dropped) {
    const line = out.slice(lineStart).trimEnd();
    out = out.slice(0, lineStart) + (lineInCode && line.trim() === "" ? "" : line);
  }
  return out;
}
