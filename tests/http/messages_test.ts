/**
 * `GET /messages/{id}` and `GET /messages/{id}/parts/{n}` over the MIME fixture corpus,
 * against Python's `email` package reading the same files: decoded subject, addresses, text
 * and html bodies (decoded to UTF-8 from their charsets), and every named attachment's
 * decoded bytes.
 */

import assert from "node:assert/strict";
import { FIXTURE_DIR, fixtures } from "../imap/fixtures.ts";
import { messagePath, withApi } from "./helpers.ts";

interface Expected {
  subject: string;
  text: string | null;
  html: string | null;
  addresses: Record<string, Array<{ name: string | null; address: string }>>;
  /** File name → decoded bytes (hex). */
  files: Record<string, string>;
}

const PYTHON = String.raw`
import email, email.policy, json, sys
def text(value):
    return str(value).encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')
def body(msg, kind):
    try:
        part = msg.get_body(preferencelist=(kind,))
        return part.get_content() if part is not None else None
    except Exception:
        return None
def filename(part):
    for header, name in (('content-disposition', 'filename'), ('content-type', 'name')):
        value = part.get(header)
        params = getattr(value, 'params', None) if value is not None else None
        if params and params.get(name):
            return text(params.get(name))
    return None
result = {}
for path in sys.argv[1:]:
    data = open(path, 'rb').read()
    msg = email.message_from_bytes(data, policy=email.policy.default)
    # Raw UTF-8 in address fields: Python reads those right only from text.
    heads = email.message_from_string(data.decode('utf-8', 'surrogateescape'),
                                      policy=email.policy.default)
    addresses = {}
    for header, key in (('from', 'from'), ('sender', 'sender'), ('reply-to', 'replyTo'),
                        ('to', 'to'), ('cc', 'cc'), ('bcc', 'bcc')):
        value = heads.get(header)
        addresses[key] = [{"name": a.display_name or None, "address": a.addr_spec}
                          for a in value.addresses] if value is not None else []
    files = {}
    def collect(part):
        # A forwarded message is one attachment: its own parts are not listed.
        if part.get_content_maintype() == 'message': return
        if part.is_multipart():
            for child in part.get_payload(): collect(child)
        elif filename(part):
            files[filename(part)] = part.get_payload(decode=True).hex()
    collect(msg)
    result[path.rsplit('/', 1)[-1][:-4]] = {
        "subject": text(msg.get('subject', '')), "text": body(msg, 'plain'),
        "html": body(msg, 'html'), "addresses": addresses, "files": files}
print(json.dumps(result))
`;

/**
 * Where this server and Python rightly differ. broken_garbage_headers: a multipart without a
 * boundary is text/plain here (RFC 2045 5.2), so it has a text body; Python finds none, and
 * reads `<>` and the garbage To as addresses `<>`; 8-bit header bytes that are not UTF-8 are
 * read as Latin-1 here (Python keeps undecodable bytes). groups_and_odd_addresses: a trailing
 * comment names the mailbox here (as Dovecot does); Python drops comments.
 */
function knownDifferences(name: string, expected: Expected): Expected {
  if (name === "broken_garbage_headers") {
    return {
      ...expected,
      subject: "Garbage \x01 control and \xff\xfe bytes",
      text: "no boundary, so this is text\r\n",
      addresses: {
        ...expected.addresses,
        from: [{ name: null, address: "" }],
        to: [{ name: null, address: "" }],
      },
    };
  }
  if (name === "groups_and_odd_addresses") {
    const cc = expected.addresses.cc.map((a) =>
      a.address === '"john q. public"@example.com' ? { ...a, name: "John Q." } : a
    );
    return { ...expected, addresses: { ...expected.addresses, cc } };
  }
  return expected;
}

async function pythonView(names: string[]): Promise<Record<string, Expected>> {
  const paths = names.map((name) => new URL(`${name}.eml`, FIXTURE_DIR).pathname);
  const output = await new Deno.Command("python3", {
    args: ["-c", PYTHON, ...paths],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("http: message detail and part downloads agree with Python's email package", async () => {
  const corpus = fixtures();
  const python = await pythonView(corpus.map(([name]) => name));
  await withApi(async (api) => {
    api.server.store.ensureUser("alice");
    for (const [, raw] of corpus) api.server.store.append("alice", "INBOX", raw);
    let downloads = 0;
    for (const [index, [name]] of corpus.entries()) {
      const id = `alice:INBOX:${index + 1}`;
      const expected = knownDifferences(name, python[name]);
      const detail = await api.request(messagePath(id));
      assert.equal(detail.status, 200, name);
      assert.equal(detail.json.subject, expected.subject, `${name}: subject`);
      assert.equal(detail.json.text, expected.text, `${name}: text`);
      assert.equal(detail.json.html, expected.html, `${name}: html`);
      assert.deepEqual(detail.json.addresses, expected.addresses, `${name}: addresses`);
      const attachments: Array<{ part: string; filename: string | null; size: number }> =
        detail.json.attachments;
      for (const [filename, data] of Object.entries(expected.files)) {
        const listed = attachments.find((a) => a.filename === filename);
        assert.ok(listed, `${name}: attachment ${filename} listed`);
        const part = await api.request(messagePath(id, `/parts/${listed.part}`));
        assert.equal(part.status, 200);
        assert.equal(hex(part.bytes), data, `${name}: bytes of ${filename}`);
        assert.equal(listed.size, part.bytes.length, `${name}: size of ${filename}`);
        // Images that cannot script are shown inline; everything else downloads.
        const image = /^image\/(png|jpeg|gif|webp)$/.test(part.headers.get("content-type") ?? "");
        assert.match(
          part.headers.get("content-disposition") ?? "",
          image ? /^inline; filename=/ : /^attachment; filename=/,
        );
        downloads++;
      }
    }
    assert.ok(downloads >= 8, `${downloads} downloads`);
  });
});

Deno.test("http: parts of any kind download; a multipart keeps its boundary; 404 otherwise", async () => {
  await withApi(async (api) => {
    const raw = Deno.readFileSync(new URL("nested_rfc822.eml", FIXTURE_DIR));
    api.server.store.ensureUser("bob");
    api.server.store.append("bob", "INBOX", raw);
    const id = "bob:INBOX:1";
    const inner = await api.request(messagePath(id, "/parts/2"));
    assert.equal(inner.headers.get("content-type"), "message/rfc822");
    assert.match(new TextDecoder().decode(inner.bytes), /^Date: Tue, 24 Nov 2026/);
    const alternative = await api.request(messagePath(id, "/parts/2.1"));
    assert.equal(
      alternative.headers.get("content-type"),
      'multipart/alternative; boundary="inner-alt"',
    );
    const html = await api.request(messagePath(id, "/parts/2.1.2"));
    assert.equal(html.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(
      new TextDecoder().decode(html.bytes),
      "<p>Numbers attached &mdash; see the sheet.</p>",
    );
    const deep = await api.request(messagePath(id, "/parts/2.2.1"));
    assert.equal(new TextDecoder().decode(deep.bytes), "Revenue: 1234");
    for (const missing of ["3", "2.9", "1.1", "0", "x"]) {
      assert.equal((await api.request(messagePath(id, `/parts/${missing}`))).status, 404, missing);
    }
  });
});
