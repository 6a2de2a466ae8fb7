/**
 * `GET /events`: every store change as an SSE event (mail over real SMTP, flags and
 * mailbox changes, expunge, reset), filters by user and type, no loss at a high delivery
 * rate, a clear cut-off for a listener that stops reading, and a clean end on stop.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../../lib/config.ts";
import { sendMail } from "../process.ts";
import { messagePath, withApi } from "./helpers.ts";
import { openEvents, type SseEvent, type SseStream } from "./sse.ts";

const encoder = new TextEncoder();
const message = (subject: string) => encoder.encode(`Subject: ${subject}\r\n\r\nbody\r\n`);

async function take(stream: SseStream, n: number): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  while (out.length < n) {
    const event = await stream.next();
    if (!event) throw new Error(`stream ended after ${out.length} of ${n} events`);
    out.push(event);
  }
  return out;
}

Deno.test("events: each kind of change, with ids in order and message summaries", async () => {
  await withApi(async (api) => {
    const stream = await openEvents(`${api.base}/events`);
    assert.equal(stream.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    try {
      const reply = await sendMail(
        api.server.ports.smtp,
        "amy+t1@example.com",
        "From: App <app@example.com>\r\nTo: amy+t1@example.com\r\nSubject: Hello\r\n\r\nHi\r\n",
      );
      assert.match(reply, /^250 /);
      const store = api.server.store;
      store.setFlags("amy", "INBOX", [1], "add", ["\\Seen", "$Important"]);
      store.createMailbox("amy", "Projects");
      store.renameMailbox("amy", "Projects", "Work");
      store.deleteMailbox("amy", "Work");
      assert.equal(
        (await api.request(messagePath("amy:INBOX:1"), { method: "DELETE" })).status,
        200,
      );
      assert.equal((await api.request("/reset", { method: "POST" })).status, 200);

      const events = await take(stream, 12);
      assert.deepEqual(events.map((e) => e.event), [
        "user.created",
        "mailbox.created",
        "mailbox.created",
        "mailbox.created",
        "mailbox.created",
        "mailbox.created",
        "message.added",
        "flags.changed",
        "mailbox.created",
        "mailbox.renamed",
        "mailbox.deleted",
        "message.expunged",
      ]);
      const ids = events.map((e) => Number(e.id));
      ids.forEach((id, i) => assert.equal(id, ids[0] + i, "consecutive ids"));
      const added = events[6].json;
      assert.equal(added.type, "message.added");
      assert.equal(added.user, "amy");
      assert.equal(added.message.id, "amy:INBOX:1");
      assert.equal(added.message.subject, "Hello");
      assert.equal(added.message.from, "App <app@example.com>");
      assert.equal(added.message.to, "amy+t1@example.com");
      assert.equal(added.message.modseq, 2, "INBOX starts at 1; the delivery takes 2");
      assert.deepEqual(events[7].json.changes, [
        { id: "amy:INBOX:1", uid: 1, flags: ["\\Seen", "$Important"], modseq: 3 },
      ]);
      assert.deepEqual(events[9].json, {
        type: "mailbox.renamed",
        user: "amy",
        mailbox: "Projects",
        newName: "Work",
      });
      assert.deepEqual(events[11].json.ids, ["amy:INBOX:1"]);
      assert.equal(events[11].json.modseq, 4, "the expunge takes the next MODSEQ");
      const reset = await stream.next();
      assert.equal(reset?.event, "reset");
      assert.deepEqual(reset?.json, { type: "reset" });
    } finally {
      await stream.close();
    }
  });
});

Deno.test("events: filtered by user (reset always comes) and by type; bad filters are 400", async () => {
  await withApi(async (api) => {
    const amy = await openEvents(`${api.base}/events?user=AMY`);
    const added = await openEvents(`${api.base}/events?types=message.added,reset`);
    try {
      await api.inject({ user: "bob", subject: "for bob" });
      await api.inject({ user: "amy", subject: "for amy" });
      await api.request("/reset", { method: "POST" });
      const amyEvents = await take(amy, 8);
      assert.ok(amyEvents.slice(0, 7).every((e) => e.json.user === "amy"));
      assert.equal(amyEvents[6].json.message.subject, "for amy");
      assert.equal(amyEvents[7].event, "reset");
      const addedEvents = await take(added, 3);
      assert.deepEqual(addedEvents.map((e) => e.event), [
        "message.added",
        "message.added",
        "reset",
      ]);
    } finally {
      await amy.close();
      await added.close();
    }
    for (
      const [query, pattern] of [
        ["colour=red", /^Unknown filter "colour"/],
        ["user=a%20b", /^Invalid user filter/],
        ["types=message.added,nope", /^Unknown event type "nope"/],
      ] as const
    ) {
      const response = await api.request(`/events?${query}`);
      assert.equal(response.status, 400, query);
      assert.match(response.json.error, pattern);
    }
  });
});

Deno.test("events: no message lost for a connected listener at a high delivery rate", async () => {
  await withApi(async (api) => {
    const stream = await openEvents(`${api.base}/events?types=message.added`);
    const total = 3000;
    try {
      // 100 deliveries per turn of the event loop: far above 1,000 per second.
      const store = api.server.store;
      store.ensureUser("amy");
      const producing = (async () => {
        for (let i = 0; i < total; i += 100) {
          for (let j = i; j < i + 100; j++) store.append("amy", "INBOX", message(`m${j}`));
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      })();
      const events = await take(stream, total);
      await producing;
      events.forEach((event, i) => {
        assert.equal(event.json.message.uid, i + 1);
        assert.equal(event.json.message.subject, `m${i}`);
      });
    } finally {
      await stream.close();
    }
  });
});

Deno.test("events: a listener that falls too far behind is told so, then cut off", async () => {
  await withApi(async (api) => {
    const stream = await openEvents(`${api.base}/events`);
    const store = api.server.store;
    store.ensureUser("amy");
    // One burst, with nobody reading: more than the 32 KiB queue allows.
    for (let i = 0; i < 400; i++) store.append("amy", "INBOX", message(`m${i}`));
    const events: SseEvent[] = [];
    for (let event = await stream.next(); event; event = await stream.next()) events.push(event);
    const last = events.pop()!;
    assert.equal(last.event, "overflow");
    assert.match(last.json.error, /^Listener too slow: more than 32768 bytes of events/);
    assert.equal(last.json.sent, events.length, "the count matches what arrived");
    assert.ok(last.json.unsent > 0);
    assert.ok(events.length > 10 && events.length < 406, `${events.length} events`);
    assert.equal((await api.request("/health")).json.eventListeners, 0);
    // Reconnecting works, and sees later events.
    const again = await openEvents(`${api.base}/events`);
    store.append("amy", "INBOX", message("after"));
    assert.equal(
      (await again.until((e) => e.event === "message.added")).json.message.subject,
      "after",
    );
    await again.close();
  }, { limits: { ...DEFAULT_LIMITS, maxEventQueueBytes: 32 * 1024 } });
});

Deno.test("events: stopping the server ends open streams with a closed event", async () => {
  let stream: SseStream | undefined;
  await withApi(async (api) => {
    stream = await openEvents(`${api.base}/events`);
    assert.equal((await api.request("/health")).json.eventListeners, 1);
  });
  const last = await stream!.next();
  assert.equal(last?.event, "closed");
  assert.equal(await stream!.next(), null);
});
