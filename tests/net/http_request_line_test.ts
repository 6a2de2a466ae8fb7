import assert from "node:assert/strict";
import { isHttpRequestLine } from "../../lib/net/http_request_line.ts";

Deno.test("http request line: a browser's request lines, and no mail command", () => {
  const encoder = new TextEncoder();
  const both = (line: string) => {
    const text = isHttpRequestLine(line);
    assert.equal(isHttpRequestLine(encoder.encode(line)), text, line);
    return text;
  };
  for (const line of ["POST / HTTP/1.1", "GET /x?y=1 HTTP/1.0", "CONNECT a:443 HTTP/1.1"]) {
    assert.ok(both(line), line);
  }
  for (
    const line of [
      "EHLO client.example",
      "MAIL FROM:<a@b.example> HTTP/1.1",
      "a1 LOGIN user HTTP/1.1",
      "GET HTTP/1.1",
      "post / HTTP/1.1",
      "POST / HTTP/2",
      "USER bob",
      "",
    ]
  ) {
    assert.equal(both(line), false, line);
  }
});
