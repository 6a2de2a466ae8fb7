/**
 * What the store contract's tests share (see `contract.ts`): the sample message and the
 * assertions.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type MailboxInfo,
  type Store,
  StoreError,
  type StoreErrorKind,
  type StoreEvent,
} from "../../lib/store/mod.ts";

/** One contract test: registered for each backend with a fresh store. */
export type ContractTest = (name: string, fn: (store: Store) => void | Promise<void>) => void;

const encoder = new TextEncoder();

/** A small RFC 5322 message whose bytes include CRLF, a bare LF and 8-bit octets. */
export function sampleMessage(subject = "Hello", body = "Body text"): Uint8Array {
  return encoder.encode(
    `From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${
        subject.replace(/\W/g, "")
      }@example.com>\r\n\r\n${body}\r\nbare\nlf \u00e9\r\n`,
  );
}

export function assertStoreError(fn: () => unknown, kind: StoreErrorKind): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof StoreError, `expected StoreError, got ${error}`);
    assert.equal(error.kind, kind);
    return true;
  });
}

/** The counters a mailbox should report, computed the slow way from its messages. */
function countedInfo(store: Store, user: string, mailbox: string) {
  const messages = store.listMessages(user, mailbox);
  return {
    messages: messages.length,
    unseen: messages.filter((m) => !m.flags.includes("\\Seen")).length,
    deleted: messages.filter((m) => m.flags.includes("\\Deleted")).length,
    size: messages.reduce((sum, m) => sum + m.size, 0),
  };
}

/** Asserts that every mailbox of `user` reports the counters its messages imply. */
export function assertCounts(store: Store, user: string): void {
  for (const info of store.listMailboxes(user)) {
    const { messages, unseen, deleted, size } = info;
    assert.deepEqual(
      { messages, unseen, deleted, size },
      countedInfo(store, user, info.name),
      `counters of ${info.name}`,
    );
    assert.deepEqual(store.getMailbox(user, info.name), info);
  }
}

export function names(infos: MailboxInfo[]): string[] {
  return infos.map((info) => info.name);
}

/** Failures inside listeners (the store logs and swallows them), checked after each test. */
export const listenerFailures = new WeakMap<Store, unknown[]>();

/** Records every event, and runs `check` inside the listener (to see what is visible then). */
export function record(store: Store, check?: (event: StoreEvent) => void): StoreEvent[] {
  const events: StoreEvent[] = [];
  store.subscribe((event) => {
    try {
      check?.(event);
    } catch (error) {
      listenerFailures.get(store)?.push(error);
    }
    events.push(event);
  });
  return events;
}
