/**
 * Link and one-time-code extraction: known answers for the shapes real transactional mail
 * takes (html anchors with entities, text URLs in punctuation, codes split by spaces), and
 * the numbers that are not codes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeEntities, extractCodes, extractLinks, htmlToText } from "../../lib/mail/links.ts";

Deno.test("links: html anchors first with their text, entities decoded, then text URLs", () => {
  const html = `<p>Hi!</p><a class="btn" href="https://app.example.com/confirm?token=a1&amp;u=7">
    Confirm&nbsp;your <b>email</b></a> or <a href='mailto:help@example.com'>write</a>
    <a href="javascript:alert(1)">no</a><a href=/relative>no</a>
    Or paste https://app.example.com/confirm?token=a1&amp;u=7 into your browser.`;
  const text = "Confirm: https://app.example.com/confirm?token=a1&u=7.\n" +
    "(see https://example.com/help_(faq)) and www.example.org/x, then https://t.example/a?b=c!";
  assert.deepEqual(extractLinks(text, html), [
    {
      url: "https://app.example.com/confirm?token=a1&u=7",
      text: "Confirm your email",
      source: "html",
    },
    { url: "mailto:help@example.com", text: "write", source: "html" },
    { url: "https://example.com/help_(faq)", text: null, source: "text" },
    { url: "www.example.org/x", text: null, source: "text" },
    { url: "https://t.example/a?b=c", text: null, source: "text" },
  ]);
  assert.deepEqual(extractLinks(null, null), []);
  assert.deepEqual(extractLinks("no links here", "<p>none</p>"), []);
});

Deno.test("links: html helpers", () => {
  assert.equal(
    decodeEntities("a &amp; b &lt;&#x41;&#66;&gt; &bogus; &#0;"),
    "a & b <AB> &bogus; &#0;",
  );
  assert.equal(
    htmlToText("<style>p{}</style><script>x()</script><p>One</p><p>Two&nbsp;three</p>").trim(),
    "One\n Two three",
  );
});

Deno.test("codes: the code next to a code word comes first", () => {
  assert.deepEqual(
    extractCodes(
      "Your sign-in code",
      "Hi, your verification code is 482913. Ref 2024, order 77.",
      null,
    ),
    ["482913"],
  );
  assert.deepEqual(extractCodes("", "Use code 123 456 to log in", null), ["123456"]);
  assert.deepEqual(extractCodes("", "Your one-time passcode: K7QX9P", null), ["K7QX9P"]);
  assert.deepEqual(
    extractCodes("Login code 5521", null, "<p>Your code is <strong>774411</strong></p>"),
    ["774411", "5521"],
    "six digits rank over four",
  );
  // A plain number without a code word still counts, after those with one.
  assert.deepEqual(extractCodes("", "Ticket 98765 opened. Your PIN: 4321", null), [
    "4321",
    "98765",
  ]);
});

Deno.test("codes: dates, times, prices, years, URLs and long numbers are not codes", () => {
  const text = "On 2026-11-25 at 07:22:01 you paid $1234.50 (or 1234,50 EUR) in 2025. " +
    "See https://example.com/orders/884422 or call +1 555 0100. Card 4111111111111111. " +
    "Order ABCDEF1 shipped. 12.5% off.";
  assert.deepEqual(extractCodes("Receipt", text, null), []);
  assert.deepEqual(extractCodes("", "", ""), []);
});
