/**
 * Golden shapes of the MailHog and Mailpit JSON (issue 18): every field each API documents,
 * with its JSON type, checked against live answers so a renamed, missing or extra field
 * fails. Sources: MailHog 1.0.1, mailhog/data `message.go` (`Message`, `Path`, `Content`,
 * `MIMEBody`, `SMTPMessage`) and MailHog-Server `api/v2.go` (`messagesResult`); Mailpit 1.2x,
 * the API v1 documentation (swagger `MessagesSummary`, `MessageSummary`, `Message`,
 * `Attachment`, `AppInformation`, `WebUIConfiguration`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Api, withApi } from "../helpers.ts";

/** A type name, a nested shape, or `[shape]` for an array of that shape. */
type Shape = string | { [field: string]: Shape } | [Shape];

/** MailHog `Path`: `Relays []string` (null when empty, Go's nil slice). */
const PATH: Shape = { Relays: "null", Mailbox: "string", Domain: "string", Params: "string" };
/** MailHog `Content`: `Headers map[string][]string`, `MIME *MIMEBody` (null: one part). */
const CONTENT: Shape = { Headers: "object", Body: "string", Size: "number", MIME: "null" };
/** MailHog `Message`. */
const MAILHOG_MESSAGE: Shape = {
  ID: "string",
  From: PATH,
  To: [PATH],
  Content: CONTENT,
  Created: "string",
  MIME: "null",
  Raw: { From: "string", To: ["string"], Data: "string", Helo: "string" },
};
/** MailHog v2 `messagesResult`. */
const MAILHOG_LIST: Shape = {
  total: "number",
  count: "number",
  start: "number",
  items: [MAILHOG_MESSAGE],
};

/** MailHog `monkey.Jim` (MailHog-Server `api/v2.go` jim, docs `JIM.md`): its exported fields. */
const MAILHOG_JIM: Shape = {
  DisconnectChance: "number",
  AcceptChance: "number",
  LinkSpeedAffect: "number",
  LinkSpeedMin: "number",
  LinkSpeedMax: "number",
  RejectSenderChance: "number",
  RejectRecipientChance: "number",
  RejectAuthChance: "number",
};

/** Mailpit `Address`. */
const ADDRESS: Shape = { Name: "string", Address: "string" };
/** Mailpit `MessageSummary`. */
const MAILPIT_SUMMARY: Shape = {
  ID: "string",
  MessageID: "string",
  Read: "boolean",
  From: ADDRESS,
  To: [ADDRESS],
  Cc: [ADDRESS],
  Bcc: "array",
  ReplyTo: "array",
  Subject: "string",
  Created: "string",
  Username: "string",
  Tags: "array",
  Size: "number",
  Attachments: "number",
  Snippet: "string",
};
/** Mailpit `MessagesSummary`. */
const MAILPIT_LIST: Shape = {
  total: "number",
  unread: "number",
  count: "number",
  messages_count: "number",
  messages_unread: "number",
  start: "number",
  tags: "array",
  messages: [MAILPIT_SUMMARY],
};
/** Mailpit `Message` (`Inline` and `Attachments` are `Attachment` lists; none here). */
const MAILPIT_MESSAGE: Shape = {
  ID: "string",
  MessageID: "string",
  From: ADDRESS,
  To: [ADDRESS],
  Cc: [ADDRESS],
  Bcc: "array",
  ReplyTo: "array",
  ReturnPath: "string",
  Subject: "string",
  ListUnsubscribe: { Header: "string", Links: "array", Errors: "string", HeaderPost: "string" },
  Date: "string",
  Tags: "array",
  Username: "string",
  Text: "string",
  HTML: "string",
  Size: "number",
  Inline: "array",
  Attachments: "array",
};
/** Mailpit `AppInformation`. */
const MAILPIT_INFO: Shape = {
  Version: "string",
  LatestVersion: "string",
  Database: "string",
  DatabaseSize: "number",
  Messages: "number",
  Unread: "number",
  Tags: "object",
  RuntimeStats: "object",
};

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Fails with the path of the first field that differs from `shape`. */
function assertShape(value: unknown, shape: Shape, path = "$"): void {
  if (typeof shape === "string") {
    assert.equal(typeName(value), shape, path);
  } else if (Array.isArray(shape)) {
    assert.ok(Array.isArray(value) && value.length > 0, `${path}: a non-empty array`);
    (value as unknown[]).forEach((item, i) => assertShape(item, shape[0], `${path}[${i}]`));
  } else {
    assert.equal(typeName(value), "object", path);
    const record = value as Record<string, unknown>;
    assert.deepEqual(Object.keys(record).sort(), Object.keys(shape).sort(), `${path}: fields`);
    for (const [key, inner] of Object.entries(shape)) {
      assertShape(record[key], inner, `${path}.${key}`);
    }
  }
}

const RAW = [
  "From: Sender <sender@example.org>",
  "To: amy@example.test",
  "Cc: carl@example.test",
  "Subject: golden",
  "Message-ID: <g1@example.org>",
  "",
  "body",
  "",
].join("\r\n");

async function get(api: Api, path: string): Promise<unknown> {
  const response = await api.request(path);
  assert.equal(response.status, 200, path);
  return response.json;
}

Deno.test("golden: MailHog and Mailpit answers have exactly the documented fields", async () => {
  await withApi(async (api) => {
    const injected = await api.inject({ raw: RAW, to: ["amy@example.test"] });
    assert.equal(injected.status, 201);
    const id = injected.json.id;
    assertShape(await get(api, "/api/v2/messages"), MAILHOG_LIST);
    assertShape(await get(api, "/api/v2/search?kind=to&query=amy"), MAILHOG_LIST);
    assertShape(await get(api, "/mailhog/api/v1/messages"), [MAILHOG_MESSAGE]);
    assertShape(await get(api, `/api/v1/messages/${id}`), MAILHOG_MESSAGE);
    assertShape(await get(api, "/api/v1/messages"), MAILPIT_LIST);
    assertShape(await get(api, "/api/v1/search?query=golden"), MAILPIT_LIST);
    assertShape(await get(api, `/api/v1/message/${id}`), MAILPIT_MESSAGE);
    assertShape(await get(api, "/api/v1/info"), MAILPIT_INFO);
    assert.equal((await api.request("/api/v2/jim", { method: "POST" })).status, 201);
    assertShape(await get(api, "/api/v2/jim"), MAILHOG_JIM);
    // The checker itself fails on a missing field.
    assert.throws(() => assertShape({ ID: "x" }, MAILHOG_MESSAGE), /fields/);
  });
});
