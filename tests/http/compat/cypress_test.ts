/**
 * The request code paths of `cypress-mailhog` (2.5.0) and `cypress-mailpit` (2.0.0), run as
 * published: their command code is loaded from npm and driven through a minimal Cypress
 * (`cypress_shim.ts`), so every request is the one the helper sends (method, path, query,
 * body); one check per command, field by field.
 *
 * @module
 */

import assert from "node:assert/strict";
import { installCypress } from "./cypress_shim.ts";
import { REPORT_WITH_PDF as WITH_FILE, sendSmtp as send, withApi } from "../helpers.ts";

const shim = installCypress();
await import("npm:cypress-mailhog@2.5.0");
const { MailpitCommands } = await import("npm:cypress-mailpit@2.0.0/dist/src/MailpitCommands.js");

const PLAIN = [
  "From: Sender <sender@example.org>",
  "To: amy@example.test",
  "Subject: hello plain",
  "",
  "first body line",
  "",
].join("\r\n");

type Mail = { ID: string };
const ids = (mails: unknown) => (mails as Mail[]).map((mail) => mail.ID);
const lastSent = () => shim.sent[shim.sent.length - 1];

Deno.test("cypress-mailhog: every command against /mailhog", async () => {
  await withApi(async (api) => {
    await send(api, "bounce@example.org", ["amy@example.test"], PLAIN);
    await send(api, "other@example.org", ["bob@example.test"], WITH_FILE);
    const base = `${api.base}/mailhog/`;
    // Retries end at once: every answer is already there.
    shim.settings = { mailHogUrl: base, defaultCommandTimeout: 1 };
    const run = shim.run;

    const all = await run("mhGetAllMails");
    assert.deepEqual(lastSent(), {
      method: "GET",
      url: `${base}api/v2/messages?limit=50`,
      contentType: null,
      body: null,
    });
    assert.deepEqual(ids(all), ["bob:INBOX:1", "amy:INBOX:1"]);
    const [report, plain] = all as Mail[];
    assert.equal((await run("mhFirst", all) as Mail).ID, "bob:INBOX:1");
    assert.deepEqual(ids(await run("mhGetMailsBySubject", "hello plain")), ["amy:INBOX:1"]);
    assert.deepEqual(ids(await run("mhGetMailsByRecipient", "bob@example.test")), [
      "bob:INBOX:1",
    ]);
    assert.deepEqual(ids(await run("mhGetMailsBySender", "bounce@example.org")), [
      "amy:INBOX:1",
    ]);
    assert.deepEqual(ids(await run("mhSearchMails", "to", "bob@example.test", 10)), [
      "bob:INBOX:1",
    ]);
    assert.equal(lastSent().url, `${base}api/v2/search?kind=to&query=bob%40example.test&limit=10`);
    assert.deepEqual(ids(await run("mhSearchMails", "containing", "report")), ["bob:INBOX:1"]);

    assert.deepEqual(ids(await run("mhFilterBySubject", all, "report attached")), [report.ID]);
    assert.deepEqual(ids(await run("mhFilterByRecipient", all, "amy@example.test")), [plain.ID]);
    assert.deepEqual(ids(await run("mhFilterBySender", all, "other@example.org")), [report.ID]);
    assert.equal(await run("mhGetSubject", plain), "hello plain");
    assert.equal(await run("mhGetBody", plain), "first body line\r\n");
    assert.equal(await run("mhGetSender", plain), "bounce@example.org");
    assert.deepEqual(await run("mhGetRecipients", plain), ["amy@example.test"]);
    assert.deepEqual(await run("mhGetAttachments", report), ["r.pdf"]);
    assert.deepEqual(await run("mhGetAttachments", plain), []);

    await run("mhHasMailWithSubject", "hello plain");
    await run("mhHasMailFrom", "other@example.org");
    await run("mhHasMailTo", "amy@example.test");
    await run("mhWaitForMails", 1);
    await assert.rejects(run("mhHasMailWithSubject", "nothing like it") as Promise<unknown>);
    await assert.rejects(run("mhWaitForMails", 2) as Promise<unknown>);

    assert.equal(await run("mhGetJimMode"), false);
    await run("mhSetJimMode", true);
    assert.deepEqual([lastSent().method, lastSent().url], ["POST", `${base}api/v2/jim`]);
    assert.equal(await run("mhGetJimMode"), true);
    await run("mhSetJimMode", false);
    assert.deepEqual([lastSent().method, lastSent().url], ["DELETE", `${base}api/v2/jim`]);
    assert.equal(await run("mhGetJimMode"), false);

    const deleted = await run("mhDeleteAll") as { status: number; body: unknown };
    assert.deepEqual([lastSent().method, lastSent().url], ["DELETE", `${base}api/v1/messages`]);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body, "");
    assert.deepEqual(await run("mhGetAllMails"), []);

    // At the root (no /mailhog): the same commands, delete-all on Mailpit's path.
    await send(api, "bounce@example.org", ["amy@example.test"], PLAIN);
    shim.settings = { mailHogUrl: `${api.base}/`, defaultCommandTimeout: 1 };
    // UIDs are never reused: the new message is amy's second.
    assert.deepEqual(ids(await run("mhGetAllMails")), ["amy:INBOX:2"]);
    assert.equal((await run("mhDeleteAll") as { status: number }).status, 200);
    assert.deepEqual(await run("mhGetAllMails"), []);
    // The retry timers of the helper (defaultCommandTimeout) run out.
    await new Promise((done) => setTimeout(done, 20));
  });
});

Deno.test("cypress-mailpit: every command", async () => {
  await withApi(async (api) => {
    shim.settings = { MAILPIT_URL: api.base, defaultCommandTimeout: 4000 };
    // deno-lint-ignore no-explicit-any
    const mp: any = new MailpitCommands();

    // The helper's default message: To jane, Cc cc, Bcc bcc (an address), ReplyTo, HTML, text.
    const sent = await mp.mailpitSendMail().promise;
    assert.equal(lastSent().method, "POST");
    assert.equal(lastSent().url, `${api.base}/api/v1/send`);
    assert.equal(lastSent().contentType, "application/json");
    assert.equal(sent.ID, "jane:INBOX:1");
    await send(api, "other@example.org", ["bob@example.test"], WITH_FILE);

    const all = await mp.mailpitGetAllMails().promise;
    assert.equal(lastSent().url, `${api.base}/api/v1/messages?start=0&limit=50`);
    assert.deepEqual(ids(all.messages), [
      "bob:INBOX:1",
      "bcc:INBOX:1",
      "cc:INBOX:1",
      "jane:INBOX:1",
    ]);
    const latest = await mp.mailpitGetMail().promise;
    assert.equal(lastSent().url, `${api.base}/api/v1/message/latest`);
    assert.equal(latest.ID, "bob:INBOX:1");
    const jane = await mp.mailpitGetMail("jane:INBOX:1").promise;
    assert.equal(await mp.mailpitGetSubject(jane).promise, "Hello Mailpit");
    assert.deepEqual(await mp.mailpitGetRecipientAddress(jane).promise, ["jane@example.com"]);
    assert.equal(await mp.mailpitGetFromAddress(jane).promise, "from@example.com");
    assert.deepEqual(jane.Cc, [{ Name: "CC", Address: "cc@example.com" }]);
    assert.deepEqual(jane.ReplyTo, [{ Name: "ReplyTo", Address: "replyto@example.com" }]);
    assert.deepEqual(jane.Bcc, []);
    assert.deepEqual(await mp.mailpitGetAttachments(latest).promise, ["r.pdf"]);
    assert.equal(await mp.mailpitGetMailHTMlBody(jane).promise, "<p>hello from mailpit</p>");
    // The helper joins its base and "/view/…" with one slash too many; Mailpit's router
    // redirects that to the clean path, and so does ours.
    assert.equal(lastSent().url, `${api.base}//view/jane:INBOX:1.html`);
    assert.equal((await mp.mailpitGetMailTextBody(jane).promise).trim(), "hello from mailpit");
    assert.equal(lastSent().url, `${api.base}//view/jane:INBOX:1.txt`);
    // Mailpit without SpamAssassin answers 400, which cy.request fails on.
    await assert.rejects(mp.mailpitGetMailSpamAssassinSummary(jane).promise, /400/);
    await assert.rejects(mp.mailpitGetMailSpamAssainSummary(jane).promise, /400/);

    const found = await mp.mailpitSearchEmails("to:bob@example.test").promise;
    assert.equal(
      lastSent().url,
      `${api.base}/api/v1/search?query=to%3Abob%40example.test&start=0&limit=50`,
    );
    assert.deepEqual(ids(found.messages), ["bob:INBOX:1"]);
    const bySubject = await mp.mailpitGetEmailsBySubject("Hello Mailpit").promise;
    assert.equal(bySubject.messages_count, 3);
    // One copy per recipient (README): jane's, cc's and bcc's copies all say To: jane.
    assert.equal((await mp.mailpitGetEmailsByTo("jane@example.com").promise).messages_count, 3);
    await mp.mailpitHasEmailsBySearch("has:attachment").promise;
    await mp.mailpitNotHasEmailsBySearch("subject:nothing").promise;
    await mp.mailpitHasEmailsBySubject("Hello Mailpit").promise;
    await mp.mailpitNotHasEmailsBySubject("Goodbye").promise;
    await mp.mailpitHasEmailsByTo("bob@example.test").promise;
    await mp.mailpitNotHasEmailsByTo("nobody@example.test").promise;

    // Read status: all, then one, then a list (IDs of the subjects given).
    assert.equal(await mp.mailpitSetAllEmailStatusAsRead().promise, "ok");
    assert.deepEqual(JSON.parse(lastSent().body!), { IDs: [], Read: true });
    assert.equal((await mp.mailpitGetAllMails().promise).unread, 0);
    assert.equal(await mp.mailpitSetAllEmailStatusAsUnRead().promise, "ok");
    assert.equal((await mp.mailpitGetAllMails().promise).unread, 4);
    assert.equal(await mp.mailpitSetStatusAsRead(jane).promise, "ok");
    assert.deepEqual(JSON.parse(lastSent().body!), { IDs: ["jane:INBOX:1"], Read: true });
    const unread = (await mp.mailpitSearchEmails("is:unread").promise).messages;
    assert.deepEqual(ids(unread), ["bob:INBOX:1", "bcc:INBOX:1", "cc:INBOX:1"]);
    await mp.mailpitSetStatusAsUnRead([jane]).promise;
    assert.equal((await mp.mailpitGetAllMails().promise).unread, 4);

    await mp.mailpitDeleteEmailsBySearch("to:jane@example.com").promise;
    assert.equal(lastSent().url, `${api.base}/api/v1/search?query=to%3Ajane%40example.com`);
    assert.equal((await mp.mailpitGetAllMails().promise).total, 1);
    const cleared = await mp.mailpitDeleteAllEmails().promise;
    assert.equal(cleared.status, 200);
    assert.equal((await mp.mailpitGetAllMails().promise).total, 0);
  });
});
