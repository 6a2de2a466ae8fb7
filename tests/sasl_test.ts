import assert from "node:assert/strict";
import { decodeSaslPlain, decodeSaslText } from "../lib/sasl.ts";

const plain = (text: string) => btoa(text);

Deno.test("sasl: base64 text, padded only, UTF-8", () => {
  assert.equal(decodeSaslText("YWxpY2U="), "alice");
  assert.equal(decodeSaslText(""), "");
  assert.equal(decodeSaslText(btoa(String.fromCharCode(0xc3, 0xa9))), "é");
  for (const bad of ["=", "YWxpY2U", "YWxp Y2U=", "YW=xpY2U", "!!!!", "YWxpY2U==="]) {
    assert.equal(decodeSaslText(bad), null, bad);
  }
});

Deno.test("sasl: PLAIN decodes authzid, authcid and password", () => {
  assert.deepEqual(decodeSaslPlain(plain("\0alice\0secret")), {
    ok: true,
    authzid: "",
    authcid: "alice",
    password: "secret",
  });
  assert.deepEqual(decodeSaslPlain(plain("Alice\0alice\0")), {
    ok: true,
    authzid: "Alice",
    authcid: "alice",
    password: "",
  });
});

Deno.test("sasl: PLAIN failures are typed", () => {
  const failure = (encoded: string) => {
    const result = decodeSaslPlain(encoded);
    return result.ok ? "ok" : result.failure;
  };
  assert.equal(failure("!!!!"), "bad-base64");
  assert.equal(failure("abc"), "bad-base64");
  assert.equal(failure("="), "malformed");
  assert.equal(failure(""), "malformed");
  assert.equal(failure(plain("alice\0secret")), "malformed");
  assert.equal(failure(plain("\0a\0b\0c")), "malformed");
  assert.equal(failure(plain("bob\0alice\0secret")), "authzid-mismatch");
});
