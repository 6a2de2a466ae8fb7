/**
 * FETCH ENVELOPE and BODYSTRUCTURE as real clients read them: imapflow fetches the fixture
 * corpus (`tests/fixtures/mime/`) over a real connection, and Python's `email` package reads
 * the same files. Both must agree on the part tree (IMAP part numbers, content types, file
 * names), the decoded subject and the From addresses; imapflow must also download each
 * attachment (BINARY) with the bytes Python decodes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import { testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import { FIXTURE_DIR, fixtures } from "../imap/fixtures.ts";

interface PartInfo {
  part: string;
  type: string;
  filename: string | null;
}

interface MessageInfo {
  subject: string | null;
  from: string[];
  parts: PartInfo[];
}

/**
 * Where the readers rightly differ, and why. Anything else must match exactly.
 * - A multipart without a boundary: Python keeps the declared type with no parts; RFC 2045
 *   5.2 (and Dovecot) make an unusable Content-Type the default, text/plain.
 * - `From: <>`: Python reports the address as `<>`; IMAP needs a local part and a host, so
 *   (like Dovecot) the server fills in MISSING_MAILBOX and MISSING_DOMAIN.
 */
const KNOWN_DIFFERENCES: Record<string, Partial<MessageInfo>> = {
  broken_garbage_headers: {
    parts: [{ part: "1", type: "text/plain", filename: null }],
    from: ["MISSING_MAILBOX@MISSING_DOMAIN"],
  },
};

const PYTHON = String.raw`
import email, email.policy, json, sys
def text(value):
    if value is None: return None
    return str(value).encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')
def filename(part):
    for header, name in (('content-disposition', 'filename'), ('content-type', 'name')):
        value = part.get(header)
        params = getattr(value, 'params', None) if value is not None else None
        if params and params.get(name):
            return text(params.get(name))
    return None
def visit(part, num, out):
    ctype = part.get_content_type()
    out.append({"part": ".".join(map(str, num)), "type": ctype, "filename": filename(part)})
    if ctype in ('message/rfc822', 'message/global') and part.is_multipart():
        children(part.get_payload(0), num, out)
    elif part.is_multipart():
        for i, child in enumerate(part.get_payload(), 1):
            visit(child, num + [i], out)
def children(msg, num, out):
    if msg.is_multipart():
        for i, child in enumerate(msg.get_payload(), 1):
            visit(child, num + [i], out)
    else:
        out.append({"part": ".".join(map(str, num + [1])), "type": msg.get_content_type(),
                    "filename": filename(msg)})
def payloads(msg, out):
    for part in msg.walk():
        if part.get_content_maintype() in ('multipart', 'message'): continue
        name = filename(part)
        if name: out[name] = part.get_payload(decode=True).hex()
result = {}
for path in sys.argv[1:]:
    msg = email.message_from_bytes(open(path, 'rb').read(), policy=email.policy.default)
    parts, files = [], {}
    children(msg, [], parts)
    payloads(msg, files)
    sender = msg.get('from')
    try:
        senders = [a.addr_spec for a in sender.addresses] if sender is not None else []
    except Exception:
        senders = []
    result[path.rsplit('/', 1)[-1][:-4]] = {
        "subject": text(msg.get('subject')), "from": senders, "parts": parts, "files": files}
print(json.dumps(result))
`;

async function pythonView(names: string[]) {
  const paths = names.map((name) => new URL(`${name}.eml`, FIXTURE_DIR).pathname);
  const output = await new Deno.Command("python3", {
    args: ["-c", PYTHON, ...paths],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout)) as Record<
    string,
    MessageInfo & { files: Record<string, string> }
  >;
}

interface FlowNode {
  part?: string;
  type: string;
  parameters?: Record<string, string>;
  dispositionParameters?: Record<string, string>;
  childNodes?: FlowNode[];
}

/** imapflow's tree flattened the way IMAP numbers parts. */
function flatten(root: FlowNode): PartInfo[] {
  const out: PartInfo[] = [];
  const info = (node: FlowNode, part: string): PartInfo => ({
    part,
    type: node.type,
    filename: node.dispositionParameters?.filename ?? node.parameters?.name ?? null,
  });
  const visit = (node: FlowNode, part: string) => {
    out.push(info(node, part));
    children(node, part);
  };
  const children = (node: FlowNode, part: string) => {
    if (node.type.startsWith("message/")) {
      // imapflow gives the encapsulated body the part number of its message/rfc822 part.
      const inner = node.childNodes?.[0];
      if (!inner) return;
      if (inner.type.startsWith("multipart/")) children(inner, part);
      else out.push(info(inner, `${part}.1`));
      return;
    }
    for (const child of node.childNodes ?? []) visit(child, child.part!);
  };
  if (root.type.startsWith("multipart/")) children(root, "");
  else visit(root, "1");
  return out;
}

Deno.test("imapflow and Python email read the corpus alike (ENVELOPE, BODYSTRUCTURE, BINARY)", async () => {
  const corpus = fixtures();
  const expected = await pythonView(corpus.map(([name]) => name));
  const server = await startElektromail(testConfig({ httpPort: null }));
  const imap = new ImapFlow({
    host: "127.0.0.1",
    port: server.ports.imap!,
    secure: false,
    auth: { user: "alice", pass: "x" },
    logger: false,
    disableAutoIdle: true,
  });
  try {
    server.store.ensureUser("alice");
    for (const [, raw] of corpus) server.store.append("alice", "INBOX", raw);
    await imap.connect();
    await imap.mailboxOpen("INBOX");
    let seen = 0;
    for await (
      const message of imap.fetch("1:*", { uid: true, envelope: true, bodyStructure: true })
    ) {
      const [name] = corpus[message.uid - 1];
      const python = expected[name];
      const known = KNOWN_DIFFERENCES[name] ?? {};
      const got: MessageInfo = {
        subject: message.envelope?.subject ?? null,
        from: (message.envelope?.from ?? []).map((a: { address?: string }) => a.address ?? ""),
        parts: flatten(message.bodyStructure as FlowNode),
      };
      assert.deepEqual(got.parts, known.parts ?? python.parts, `${name}: part tree`);
      assert.equal(got.subject, python.subject, `${name}: subject`);
      assert.deepEqual(got.from, known.from ?? python.from, `${name}: From`);
      seen++;
    }
    assert.equal(seen, corpus.length);

    // Attachments downloaded with BINARY.PEEK (decoded by the server) and with BODY.PEEK
    // (decoded by imapflow) are the bytes Python decodes.
    let files = 0;
    for (const [index, [name]] of corpus.entries()) {
      for (const part of expected[name].parts) {
        const hex = part.filename ? expected[name].files[part.filename] : undefined;
        if (hex === undefined) continue;
        for (const binary of [true, false]) {
          const { content } = await imap.download(String(index + 1), part.part, {
            uid: true,
            binary,
            decodeText: false,
          });
          assert.ok(content, `${name} part ${part.part}: no content`);
          const chunks: Uint8Array[] = [];
          for await (const chunk of content) chunks.push(chunk);
          const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
          let at = 0;
          for (const chunk of chunks) {
            data.set(chunk, at);
            at += chunk.length;
          }
          const got = [...data].map((b) => b.toString(16).padStart(2, "0")).join("");
          assert.equal(got, hex, `${name} part ${part.part} (${part.filename}), binary ${binary}`);
          files++;
        }
      }
    }
    assert.ok(files >= 16, `downloaded ${files} attachments`);
  } finally {
    await imap.logout().catch(() => {});
    await server.stop();
  }
});
