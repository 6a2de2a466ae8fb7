/**
 * `POST /messages/{id}/flags` (the web inbox's read/unread) and the HTML body's remote-image
 * blocking (`X-Remote-Images`, `?images=remote`), over HTTP.
 */

import assert from "node:assert/strict";
import { RawImap } from "../raw_imap.ts";
import { messagePath, text, withApi } from "./helpers.ts";

const json = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

Deno.test("flags: POST /messages/{id}/flags adds and removes; a selected IMAP session sees it", async () => {
  await withApi(async (api) => {
    await api.inject({ user: "amy", subject: "s", text: "t" });
    const imap = await RawImap.connect(api.server.ports.imap);
    try {
      await imap.command("LOGIN amy x");
      await imap.command("SELECT INBOX");
      const path = messagePath("amy:INBOX:1", "/flags");
      const added = await api.request(path, json({ add: ["\\Seen", "$Label1"] }));
      assert.equal(added.status, 200);
      assert.deepEqual(added.json.flags, ["\\Seen", "$Label1"]);
      // The selected session hears of it at its next command.
      const noop = await imap.command("NOOP");
      assert.ok(
        noop.some((line) => /^\* 1 FETCH \(.*FLAGS \(\\Seen \$Label1[ )]/.test(line)),
        noop.join("\n"),
      );
      const removed = await api.request(path, json({ remove: ["\\seen"] }));
      assert.deepEqual(removed.json.flags, ["$Label1"]);
      assert.ok(removed.json.modseq > added.json.modseq);
      const fetched = await imap.command("FETCH 1 (FLAGS)");
      assert.ok(fetched.some((line) => /FLAGS \(\$Label1[ )]/.test(line)), fetched.join("\n"));
    } finally {
      imap.close();
    }
    const cases: Array<[string, RequestInit, number]> = [
      [messagePath("amy:INBOX:1", "/flags"), json({ add: ["\\Recent"] }), 400],
      [messagePath("amy:INBOX:1", "/flags"), json({ add: "\\Seen" }), 400],
      [messagePath("amy:INBOX:1", "/flags"), json({ set: ["\\Seen"] }), 400],
      [messagePath("amy:INBOX:9", "/flags"), json({ add: ["\\Seen"] }), 404],
      [messagePath("amy:INBOX:1", "/flags"), { method: "POST", body: '{"add":[]}' }, 415],
    ];
    for (const [path, init, status] of cases) {
      const response = await api.request(path, init);
      assert.equal(response.status, status, `${path} ${init.body}`);
    }
  });
});

Deno.test("html body: remote images blocked with a placeholder; ?images=remote allows images only", async () => {
  await withApi(async (api) => {
    const html = `<p>x</p><img src="https://tracker.example/p.gif" width=1 alt='a "b"'>` +
      `<img src="data:image/png;base64,AAAA"><picture><source srcset="//cdn.example/a.webp">` +
      `<img SRC='HTTP://cdn.example/b.png'></picture>`;
    await api.inject({ user: "amy", subject: "s", html });
    const path = messagePath("amy:INBOX:1", "/html");
    const blocked = await api.request(path);
    assert.equal(blocked.status, 200);
    assert.equal(blocked.headers.get("x-remote-images"), "2");
    const body = text(blocked.bytes);
    assert.doesNotMatch(body, /tracker\.example|cdn\.example/);
    assert.equal(body.split("data:image/svg+xml").length - 1, 2, "two placeholders");
    assert.match(body, /width="1" alt="a &quot;b&quot;"/, "other attributes kept");
    assert.match(body, /src="data:image\/png;base64,AAAA"/, "data: images untouched");
    const csp = blocked.headers.get("content-security-policy")!;
    assert.match(csp, /img-src data:;/);
    assert.match(csp, /sandbox/);

    const shown = await api.request(path + "?images=remote");
    assert.equal(text(shown.bytes), html);
    const remoteCsp = shown.headers.get("content-security-policy")!;
    assert.match(remoteCsp, /img-src data: http: https:;/);
    // Everything else as strict as before: no script, style sheet, frame or form.
    assert.equal(remoteCsp.replace("img-src data: http: https:;", "img-src data:;"), csp);
    assert.equal((await api.request(path + "?images=all")).status, 400);
  });
});
