import assert from "node:assert/strict";
import { routeRecipient } from "../lib/auth.ts";
import { testConfig } from "../lib/config.ts";

Deno.test("routeRecipient: the local part without its tag names the user", () => {
  const config = testConfig();
  assert.equal(routeRecipient(config, "Alice+run7@example.com"), "alice");
  assert.equal(routeRecipient(config, "bob@example.com"), "bob");
  assert.equal(routeRecipient(config, "postmaster"), "postmaster");
});

Deno.test("routeRecipient: a quoted local part loses its quotes, unless a line break is inside", () => {
  const config = testConfig();
  assert.equal(routeRecipient(config, '"carol"@example.com'), "carol");
  assert.equal(routeRecipient(config, '"dave+x"@example.com'), routeRecipient(config, '"dave'));
  assert.equal(
    routeRecipient(config, '"a\u2028b"@example.com'),
    routeRecipient(config, '"a\u2028b"'),
  );
  assert.notEqual(routeRecipient(config, '"a\u2028b"@example.com'), "a\u2028b");
});

Deno.test("routeRecipient: a configured address routes to its user, case-insensitive, tag removed", () => {
  const config = testConfig({
    users: [{ user: "tester", password: "pw", address: "qa@example.com" }],
  });
  assert.equal(routeRecipient(config, "QA+build12@Example.com"), "tester");
  assert.equal(routeRecipient(config, '"qa"@example.com'), "tester");
  assert.equal(routeRecipient(config, "other@example.com"), "other");
});
