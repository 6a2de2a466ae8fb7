/**
 * THREAD internals that transcripts cannot reach cheaply: the thread-list writer's forms
 * (RFC 5256 5) and deep trees, which must not overflow the call stack.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  formatThreads,
  orderedSubject,
  referencesThreads,
  type ThreadMessage,
  type ThreadNode,
} from "../../lib/imap/thread.ts";

const leaf = (id: number): ThreadNode => ({ id, children: [] });

Deno.test("formatThreads: chains flat, branches one list per child, dummies without a number", () => {
  assert.equal(formatThreads([]), "");
  assert.equal(formatThreads([leaf(1)]), "(1)");
  assert.equal(formatThreads([{ id: 1, children: [{ id: 2, children: [leaf(3)] }] }]), "(1 2 3)");
  assert.equal(formatThreads([{ id: 1, children: [leaf(2), leaf(3)] }]), "(1 (2)(3))");
  assert.equal(
    formatThreads([{ id: null, children: [{ id: 2, children: [leaf(4)] }, leaf(3)] }, leaf(5)]),
    "((2 4)(3))(5)",
  );
  // RFC 5256 5's example shape.
  const example = {
    id: 3,
    children: [{
      id: 6,
      children: [{ id: 4, children: [leaf(23)] }, {
        id: 44,
        children: [{ id: 7, children: [leaf(96)] }],
      }],
    }],
  };
  assert.equal(formatThreads([leaf(2), example]), "(2)(3 6 (4 23)(44 7 96))");
});

function message(id: number, references: string[], subject = "s"): ThreadMessage {
  return {
    id,
    seq: id,
    date: id,
    subject,
    replyOrForward: id > 1,
    messageId: `m${id}@x`,
    references,
  };
}

Deno.test("REFERENCES and REFS: a 20,000-deep chain threads without overflowing the stack", () => {
  const count = 20_000;
  const messages: ThreadMessage[] = [];
  for (let i = 1; i <= count; i++) messages.push(message(i, i > 1 ? [`m${i - 1}@x`] : []));
  for (const refs of [false, true]) {
    const threads = referencesThreads(messages, refs);
    assert.equal(threads.length, 1);
    const text = formatThreads(threads);
    assert.ok(text.startsWith("(1 2 3 "), text.slice(0, 20));
    assert.ok(text.endsWith(` ${count})`));
  }
  // One References field naming 20,000 ancestors that never arrive: all dummies, pruned.
  const ancestors = Array.from({ length: count }, (_, i) => `a${i}@x`);
  assert.equal(formatThreads(referencesThreads([message(1, ancestors)])), "(1)");
});

Deno.test("ORDEREDSUBJECT: by subject, then date; threads by their first message's date", () => {
  const m = (id: number, subject: string, date: number): ThreadMessage => ({
    ...message(id, []),
    subject,
    date,
  });
  const threads = orderedSubject([
    m(1, "B", 5),
    m(2, "A", 9),
    m(3, "B", 1),
    m(4, "A", 3),
    m(5, "A", 3),
  ]);
  assert.equal(formatThreads(threads), "(3 1)(4 (5)(2))");
});
