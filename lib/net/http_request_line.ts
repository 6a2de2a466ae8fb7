/**
 * HTTP request lines arriving on a mail port. A web page can make the browser POST to any
 * local port (`fetch(..., { mode: "no-cors" })` with a `text/plain` body needs no preflight),
 * and every line of the request reaches the SMTP, IMAP or POP3 session: the request line and
 * headers cost a few errors, under the bad-command limit, and the body's commands then run
 * (mail sent in, a user's mail deleted). So a line shaped like an HTTP request line ends the
 * connection at once, before anything after it is read, as Postfix does for GET, POST and
 * CONNECT (`smtpd_forbidden_commands`). No mail command has that shape: a method in upper case,
 * a space, a target, and ` HTTP/` and a version at the end.
 *
 * @module
 */

const METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"];

/** The longest method and its space. */
const LONGEST = 8;

/** Whether `line` (without its line end; bytes or text) is an HTTP/1.x request line. */
export function isHttpRequestLine(line: Uint8Array | string): boolean {
  const length = line.length;
  // "GET / HTTP/1.1" at the least.
  if (length < 14) return false;
  const at = (i: number) => typeof line === "string" ? line.charCodeAt(i) : line[i];
  // Quick out for nearly every command: not a method's first letter.
  const first = at(0);
  if (
    first !== 0x47 && first !== 0x50 && first !== 0x48 && first !== 0x44 &&
    first !== 0x4f && first !== 0x43 && first !== 0x54
  ) return false;
  let space = -1;
  for (let i = 1; i <= LONGEST && i < length; i++) {
    if (at(i) === 0x20) {
      space = i;
      break;
    }
  }
  if (space < 0) return false;
  let method = "";
  for (let i = 0; i < space; i++) method += String.fromCharCode(at(i));
  if (!METHODS.includes(method)) return false;
  // " HTTP/1.0", " HTTP/1.1": the end, after the target.
  const tail = " HTTP/1.";
  const start = length - tail.length - 1;
  if (start <= space) return false;
  for (let i = 0; i < tail.length; i++) if (at(start + i) !== tail.charCodeAt(i)) return false;
  const digit = at(length - 1);
  return digit >= 0x30 && digit <= 0x39;
}
