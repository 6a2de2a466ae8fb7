import assert from "node:assert/strict";
import {
  ADDRESS_MEMO_SIZE,
  type AddressEntry,
  addressListMemo,
  displayAddresses,
  isSimpleMailbox,
  MISSING_DOMAIN,
  MISSING_MAILBOX,
  parseAddressList,
  parseAddressListGeneral,
} from "../../lib/mail/address.ts";

/** Entries in a compact form: `name|route|mailbox|host`, `group:name`, `end`. */
function compact(value: string): string[] {
  return parseAddressList(value).map((entry: AddressEntry) => {
    if (entry.kind === "group") return `group:${entry.name}`;
    if (entry.kind === "end") return "end";
    return [entry.name, entry.route, entry.mailbox, entry.host].map((v) => v ?? "NIL").join("|");
  });
}

Deno.test("address: mailboxes, display names, comments and quoting (RFC 5322 3.4)", () => {
  const cases: Array<[string, string[]]> = [
    ["bob@example.com", ["NIL|NIL|bob|example.com"]],
    ["Bob <bob@example.com>", ["Bob|NIL|bob|example.com"]],
    ['"Doe, Jane" <jane@example.com>', ["Doe, Jane|NIL|jane|example.com"]],
    ['"Say \\"hi\\"" <x@y>', ['Say "hi"|NIL|x|y']],
    ["John Q. Public <jqp@example.com>", ["John Q. Public|NIL|jqp|example.com"]],
    ["John (middle) Smith <js@example.com> (trailing)", ["John Smith|NIL|js|example.com"]],
    ["bob@example.com (Bob Smith)", ["Bob Smith|NIL|bob|example.com"]],
    ["<bob@example.com>", ["NIL|NIL|bob|example.com"]],
    ['"" <bob@example.com>', ["NIL|NIL|bob|example.com"]],
    ['"john doe"@example.com', ['NIL|NIL|"john doe"|example.com']],
    ['Jo <"a\\"b"@example.com>', ['Jo|NIL|"a\\"b"|example.com']],
    ["john . doe @ example . com", ["NIL|NIL|john.doe|example.com"]],
    ["user@[127.0.0.1]", ["NIL|NIL|user|[127.0.0.1]"]],
    ["<@relay1.example,@relay2.example:user@host.example>", [
      "NIL|@relay1.example,@relay2.example|user|host.example",
    ]],
    ["=?UTF-8?Q?J=C3=B6rg?= <j@example.com>", ["=?UTF-8?Q?J=C3=B6rg?=|NIL|j|example.com"]],
    ["=?utf-8?Q?Dr._M=C3=BCller?= <m@x>", ["=?utf-8?Q?Dr._M=C3=BCller?=|NIL|m|x"]],
    ["a@x, b@y,,c@z", ["NIL|NIL|a|x", "NIL|NIL|b|y", "NIL|NIL|c|z"]],
    ['"J\xf6rg" <j@x>', ["J\xf6rg|NIL|j|x"]],
  ];
  for (const [value, expected] of cases) assert.deepEqual(compact(value), expected, value);
});

Deno.test("address: groups become start and end markers (RFC 9051 7.5.2)", () => {
  assert.deepEqual(compact("undisclosed-recipients:;"), ["group:undisclosed-recipients", "end"]);
  assert.deepEqual(compact('team: a@x, "B" <b@y>; c@z'), [
    "group:team",
    "NIL|NIL|a|x",
    "B|NIL|b|y",
    "end",
    "NIL|NIL|c|z",
  ]);
  assert.deepEqual(compact("A Team: a@x"), ["group:A Team", "NIL|NIL|a|x", "end"]);
  assert.deepEqual(compact("x@y; z@w"), ["NIL|NIL|x|y", "NIL|NIL|z|w"]);
});

Deno.test("address: missing parts are filled in, garbage never throws", () => {
  assert.deepEqual(compact("alice"), [`NIL|NIL|alice|${MISSING_DOMAIN}`]);
  assert.deepEqual(compact("<@example.com>"), [`NIL|NIL|${MISSING_MAILBOX}|example.com`]);
  assert.deepEqual(compact("<>"), [`NIL|NIL|${MISSING_MAILBOX}|${MISSING_DOMAIN}`]);
  assert.deepEqual(compact("Bob <bob@example.com"), ["Bob|NIL|bob|example.com"]);
  assert.deepEqual(compact('"unterminated <a@b>'), [
    `NIL|NIL|"unterminated <a@b>|${MISSING_DOMAIN}`,
  ]);
  assert.deepEqual(compact(""), []);
  assert.deepEqual(compact("  (just a comment) "), []);
  for (
    const garbage of [
      "<<<>>>,,;;::@@",
      "(((",
      ")))]]]\\",
      '"',
      "[",
      "a:b:c;;;",
      "@",
      ":",
      "\x00\x01\xff",
      "a@b@c",
      "<a@b> <c@d>",
    ]
  ) {
    const entries = parseAddressList(garbage);
    let open = 0;
    for (const entry of entries) {
      if (entry.kind === "group") open++;
      if (entry.kind === "end") open--;
      if (entry.kind === "mailbox") assert.ok(entry.mailbox.length > 0 && entry.host.length > 0);
      assert.ok(open === 0 || open === 1, garbage);
    }
    assert.equal(open, 0, `groups are closed: ${JSON.stringify(garbage)}`);
  }
});

Deno.test("address: random input keeps the invariants", () => {
  const alphabet = 'ab@.,;:<>()"\\[] \t=?\xe9';
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let n = 0; n < 3000; n++) {
    let value = "";
    const length = Math.floor(random() * 40);
    for (let i = 0; i < length; i++) value += alphabet[Math.floor(random() * alphabet.length)];
    let open = 0;
    for (const entry of parseAddressList(value)) {
      if (entry.kind === "group") assert.equal(open++, 0, value);
      else if (entry.kind === "end") assert.equal(--open, 0, value);
      else assert.ok(entry.mailbox && entry.host, value);
    }
    assert.equal(open, 0, value);
  }
});

Deno.test("address: display form decodes names and flattens groups", () => {
  assert.deepEqual(
    displayAddresses(
      '=?UTF-8?Q?J=C3=B6rg?= <j@example.com>, team: a@x, "B" <b@y>;, alice, <>',
    ),
    [
      { name: "Jörg", address: "j@example.com" },
      { name: null, address: "a@x" },
      { name: "B", address: "b@y" },
      { name: null, address: "alice" },
      { name: null, address: "" },
    ],
  );
  assert.deepEqual(displayAddresses("undisclosed-recipients:;"), []);
});

Deno.test("parseAddressList: the fast path for plain values gives what the general parser gives", () => {
  // Values shaped like the fast path's, with random characters that may or may not fit it.
  const chars = [
    "a",
    "Z",
    "0",
    ".",
    "-",
    "_",
    "+",
    "'",
    " ",
    "  ",
    "@",
    "<",
    ">",
    '"',
    "(",
    ",",
    ";",
    ":",
    "\t",
    "=?",
    "\xe9",
  ];
  let seed = 11;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const word = () => {
    let text = "";
    for (let i = 0, n = random(6); i < n; i++) {
      text += random(3) === 0 ? chars[random(chars.length)] : chars[random(8)];
    }
    return text;
  };
  let fast = 0;
  for (let round = 0; round < 5000; round++) {
    const spec = `${word()}@${word()}${random(2) ? ".org" : ""}`;
    const value = random(2)
      ? spec
      : random(4) === 0
      ? `<${spec}>`
      : `${word()}${random(3) ? " " + word() : ""} <${spec}>`;
    assert.deepEqual(
      parseAddressList(value),
      parseAddressListGeneral(value),
      JSON.stringify(value),
    );
    if (/^(([a-z0-9'+_-]+ )*[a-z0-9'+_-]+ )?<[^ ]+>$|^[^ <]+$/i.test(value)) fast++;
  }
  assert.ok(fast > 500, `${fast} values of the fast path's shape`);
  // isSimpleMailbox says which values the fast path reads: those are one plain mailbox.
  for (let round = 0; round < 5000; round++) {
    const spec = `${word()}@${word()}`;
    const value = [spec, `<${spec}>`, `${word()} <${spec}>`, `${word()}<${spec}>`][random(4)];
    const entries = parseAddressListGeneral(value);
    if (isSimpleMailbox(value)) {
      assert.equal(entries.length, 1, JSON.stringify(value));
      assert.equal(entries[0].kind, "mailbox", JSON.stringify(value));
    }
    assert.equal(
      isSimpleMailbox(value),
      /^(([a-z0-9'+_-]+ )*[a-z0-9'+_-]+ )?<[a-z0-9'+_-]+(\.[a-z0-9'+_-]+)*@[a-z0-9'+_-]+(\.[a-z0-9'+_-]+)*>$|^[a-z0-9'+_-]+(\.[a-z0-9'+_-]+)*@[a-z0-9'+_-]+(\.[a-z0-9'+_-]+)*$/i
        .test(value),
      JSON.stringify(value),
    );
  }
  assert.deepEqual(compact("MISSING_MAILBOX@x.org"), ["NIL|NIL|MISSING_MAILBOX|x.org"]);
});

Deno.test("addressListMemo: the same list for a value seen again, and a bounded memo for a hostile message", () => {
  const parse = addressListMemo();
  const first = parse("Ann <ann@example.org>");
  assert.equal(parse("Ann <ann@example.org>"), first);
  assert.deepEqual(first, parseAddressList("Ann <ann@example.org>"));
  // Thousands of distinct To fields (one message): each parsed correctly, the memo bounded,
  // so a lookup never scans more than ADDRESS_MEMO_SIZE earlier values.
  const values = Array.from({ length: 5000 }, (_, i) => `u${i}@example.org`);
  for (const value of values) assert.deepEqual(parse(value), parseAddressList(value));
  const kept = values.slice(0, ADDRESS_MEMO_SIZE - 1);
  for (const value of kept) assert.equal(parse(value), parse(value));
  const late = values[values.length - 1];
  assert.notEqual(parse(late), parse(late), "a value past the bound is not kept");
  assert.deepEqual(parse(late), parseAddressList(late));
});
