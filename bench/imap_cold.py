#!/usr/bin/env python3
"""The first-touch table of issue 13 (bench/imap_cold.ts) with a stdlib-only Python 3 client,
the kind of client the issue's own figures were taken with.

The same rows in the same order as bench/imap_cold.ts: 200 x (connect, LOGIN, LOGOUT), the
median; the corpus APPENDed pipelined (LITERAL+ `{n+}` when the server announces it, else
synchronizing literals); then at once SELECT INBOX, the four FETCHes, the three UID SEARCHes,
STORE, CREATE + COPY; each row timed from the send to the tagged reply (time.perf_counter),
with the server's CPU time over the row (all its threads, /proc/<pid>/task/*/schedstat) when
its process is known.

    deno run -A bench/write_corpus.ts --out /tmp/corpus.bin      # the Deno client's bytes
    python3 bench/imap_cold.py --corpus /tmp/corpus.bin --connect 127.0.0.1:10143 \
        --user bench --pass pw [--server-pid N | --cpu-process imap@<parent pid>] [--json]

`--condstore`: ENABLE CONDSTORE right after LOGIN, as imapflow does at every connect (each
FETCH with FLAGS then carries MODSEQ), and one more row at the end, a resync of every message
(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)`).

`--json` prints the rows as `imap_load.ts --cold --json` does (`[label, text, value, cpuMs]`,
null for no CPU figure) as the last stdout line, after a line `{"clientCpuMs": [...]}` with
the client's own CPU time per row (time.process_time). `--target-from-stdin`: after loading
the corpus, print `ready` and read the rest of the arguments (`--connect ... --server-pid ...`)
from one line of stdin, so bench/cold_compare.ts can start a fresh server only once the
client is ready to connect to it (no start delay).

Responses are read by a scanner over one bytearray: literals `{n}` are skipped by count (a
message body can never pass for a tagged reply), and the lines between are searched with
bytes.find (C), not split one by one in Python, so the client stays cheap next to the server
even on 5,000-line replies. Reads ask for 1 MB at a time.
"""

import argparse
import json
import math
import os
import re
import socket
import sys
import threading
import time

READ_SIZE = 1 << 20
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


class Connection:
    """One IMAP connection: sends commands, waits for tagged replies, skips literal data."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Unread bytes are buf[pos:]. The byte before pos is kept when the buffer is
        # compacted, so at a line start buf[pos - 1] is the LF that ended the line before
        # and a tagged reply is found by searching for LF + tag.
        self.buf = bytearray(b"\n")
        self.pos = 1
        self.scratch = bytearray(READ_SIZE)
        self.view = memoryview(self.scratch)
        self.tag = 0
        self.received = 0
        greeting = self.read_line()
        if not greeting.startswith(b"* OK"):
            raise RuntimeError(f"Cannot use the server: greeting {greeting!r}")
        self.capabilities = capabilities(greeting)

    def _fill(self, skip=0):
        """Reads from the socket; the first `skip` bytes read are dropped. Returns what is
        left of `skip` (more than one read's worth)."""
        if self.pos > 1:
            del self.buf[: self.pos - 1]  # O(1) in CPython: a bytearray's start moves
            self.pos = 1
        n = self.sock.recv_into(self.view)
        if n == 0:
            raise ConnectionError("connection closed")
        self.received += n
        if n <= skip:
            return skip - n
        self.buf += self.view[skip:n]
        return 0

    def read_line(self):
        """The next line (without CRLF), for replies known to carry no literal: the
        greeting, APPEND's continuation request."""
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line = bytes(self.buf[self.pos : end])
                self.pos = end + 2
                return line
            self._fill()

    def _skip(self, count):
        """Skips `count` bytes of literal data, without copying the bytes not yet read."""
        available = len(self.buf) - self.pos
        if count <= available:
            self.pos += count
            return
        self.pos = len(self.buf)
        count -= available
        while count > 0:
            count = self._fill(count)

    def wait_tagged(self, tag, collect=None):
        """Reads until the tagged reply of `tag` (bytes) and returns that line. Untagged text
        in between (and other tags' replies) goes to `collect`, a list, as raw bytes."""
        needle = b"\n" + tag + b" "
        line_start = True  # pos is at the start of a response line, not after a literal
        while True:
            buf, pos = self.buf, self.pos
            literal = buf.find(b"}\r\n", pos)
            # Only up to the next literal: what follows it may be literal data (and searching
            # the whole buffer at every literal would cost the square of a long reply).
            tagged = buf.find(needle, pos - 1 if line_start else pos, len(buf) if literal < 0 else literal)
            if literal >= 0 and tagged < 0:
                end = literal + 3
                opening = buf.rfind(b"{", pos, literal)
                digits = buf[opening + 1 : literal] if opening >= 0 else b""
                if collect is not None:
                    collect.append(bytes(buf[pos:end]))
                self.pos = end
                line_start = not digits.isdigit()  # else a line that ends in "}"
                if not line_start:
                    self._skip(int(digits))
                continue
            if tagged >= 0:
                end = buf.find(b"\r\n", tagged + 1)
                if end >= 0:
                    if collect is not None:
                        collect.append(bytes(buf[pos : tagged + 1]))
                    self.pos = end + 2
                    return bytes(buf[tagged + 1 : end])
                consumed = tagged + 1  # the tagged line is not complete yet
            else:
                # Every complete line here is untagged and has no literal.
                consumed = buf.rfind(b"\n", pos) + 1
                if consumed == 0:
                    consumed = pos
            if consumed > pos:
                if collect is not None:
                    collect.append(bytes(buf[pos:consumed]))
                self.pos = consumed
                line_start = True
            self._fill()

    def next_tag(self):
        self.tag += 1
        return f"t{self.tag}".encode()

    def command(self, text, collect=None):
        """Sends one command and waits for its tagged reply, which must be OK."""
        tag = self.next_tag()
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        line = self.wait_tagged(tag, collect)
        if not line.startswith(tag + b" OK"):
            raise RuntimeError(f"{text[:40]}: {line!r}")
        return line

    def query(self, text):
        """Like command, returning the untagged lines of the reply (as str)."""
        collected = []
        self.command(text, collected)
        return [line for line in b"".join(collected).decode("latin1").split("\r\n") if line]

    def append_all(self, appends, literal_plus):
        """Sends the APPENDs of `appends` (tagged a1, a2, ...) and waits for the last
        completion; returns the raw replies (checked by check_appends after the timed rows).
        With LITERAL+ the framed stream is sent whole by a writer thread while this one reads
        the replies as they come; without it each literal waits for the server's
        continuation request."""
        last = f"a{len(appends.messages)}".encode()
        replies = []
        if literal_plus:
            writer = threading.Thread(target=self.sock.sendall, args=(appends.data,))
            writer.start()
            replies.append(self.wait_tagged(last, replies))
            writer.join()
        else:
            for command, message in appends.parts(synchronizing=True):
                self.sock.sendall(command)
                while True:
                    line = self.read_line()
                    if line.startswith(b"+"):
                        break
                    replies.append(line + b"\r\n")
                self.sock.sendall(message + b"\r\n")
            replies.append(self.wait_tagged(last, replies))
        return replies

    def close(self):
        self.sock.close()


def capabilities(line):
    """The capabilities a greeting or tagged OK announces (`[CAPABILITY ...]`), upper case."""
    match = re.search(rb"\[CAPABILITY ([^\]]*)\]", line)
    return set(match.group(1).decode("latin1").upper().split()) if match else set()


class Appends:
    """The corpus's APPEND commands (tags a1, a2, ...), framed once before anything is timed:
    `data` is the LITERAL+ stream, `parts` the synchronizing one."""

    def __init__(self, messages, mailbox):
        self.messages = messages
        self.mailbox = mailbox
        self.data = b"".join(
            part for command, message in self.parts(False) for part in (command, message, b"\r\n")
        )

    def parts(self, synchronizing):
        plus = "" if synchronizing else "+"
        for i, message in enumerate(self.messages):
            yield f"a{i + 1} APPEND {self.mailbox} {{{len(message)}{plus}}}\r\n".encode(), message


def check_appends(replies, count):
    """Every APPEND of the burst completed with OK (checked after the timed row)."""
    tagged = [line for line in b"".join(replies).split(b"\r\n") if line.startswith(b"a")]
    ok = {line.split(b" ")[0] for line in tagged if line.split(b" ")[1:2] == [b"OK"]}
    if len(ok) != count:
        bad = [line for line in tagged if line.split(b" ")[1:2] != [b"OK"]][:3]
        raise RuntimeError(f"APPEND: {count - len(ok)} of {count} not OK, e.g. {bad!r}")


def load_corpus(path, messages):
    """The first `messages` messages of a bench/write_corpus.ts file, and its rare word."""
    with open(path, "rb") as file:
        header = json.loads(file.readline())
        data = file.read()
    sizes = header["sizes"]
    if len(sizes) < messages:
        raise RuntimeError(f"Cannot read {messages} messages: {path} has {len(sizes)}")
    corpus, at = [], 0
    for size in sizes[:messages]:
        corpus.append(data[at : at + size])
        at += size
    return corpus, header["rareWord"]


def cpu_ms(pid):
    """A process's CPU time in ms over all its threads, from the scheduler's ns counters
    (BENCH_MAIN_THREAD=1: its main thread only); NaN when it has ended."""
    try:
        tasks = [str(pid)] if os.environ.get("BENCH_MAIN_THREAD") == "1" else os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return math.nan
    ns = 0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as file:
                ns += int(file.read().split()[0])
        except OSError:
            pass  # the thread ended
    return ns / 1e6


def newest_process(name, parent):
    """The newest process named `name` whose parent is `parent` (Dovecot's imap process of
    the connection just logged in), or None."""
    best = None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as file:
                stat = file.read().decode("latin1")
        except OSError:
            continue
        if stat[stat.index("(") + 1 : stat.rindex(")")] != name:
            continue
        fields = stat[stat.rindex(")") + 2 :].split(" ")
        if int(fields[1]) != parent:  # field 4, ppid
            continue
        start = int(fields[19])  # field 22, starttime
        if best is None or start > best[1]:
            best = (int(entry), start)
    return best[0] if best else None


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as file:
        match = re.search(r"VmRSS:\s+(\d+)", file.read())
    return int(match.group(1)) / 1024 if match else 0.0


def imap_date(seconds):
    day = time.gmtime(seconds)
    return f"{day.tm_mday}-{MONTHS[day.tm_mon - 1]}-{day.tm_year}"


def median(values):
    return sorted(values)[len(values) // 2]


def run_cold(options, appends, rare_word):
    """Runs the sequence; returns (rows, the client's CPU ms per row)."""
    colon = options.connect.rindex(":")
    host, port = options.connect[:colon], int(options.connect[colon + 1 :])
    login = f"LOGIN {options.user} {options.password}"
    corpus = appends.messages
    corpus_mb = f"{sum(len(m) for m in corpus) / 1e6:.0f}"
    rows, client_cpu = [], []
    pid = options.server_pid

    def measure(fn):
        """(ms, server CPU ms) of fn(), and its result; the client's CPU goes to client_cpu."""
        before = cpu_ms(pid) if pid else math.nan
        own = time.process_time()
        start = time.perf_counter()
        result = fn()
        elapsed = (time.perf_counter() - start) * 1000
        client_cpu.append((time.process_time() - own) * 1000)
        return elapsed, (cpu_ms(pid) - before if pid else math.nan), result

    def ms(label, elapsed, cpu):
        rows.append([label, f"{elapsed:.2f} ms", elapsed, cpu])

    if options.logins > 0:
        logins, own = [], []
        for _ in range(options.logins):
            cpu_before = time.process_time()
            start = time.perf_counter()
            c = Connection(host, port)
            c.command(login)
            c.command("LOGOUT")
            c.close()
            logins.append((time.perf_counter() - start) * 1000)
            own.append((time.process_time() - cpu_before) * 1000)
        ms(f"connect + LOGIN + LOGOUT (median of {len(logins)})", median(logins), math.nan)
        client_cpu.append(median(own))
    c = Connection(host, port)
    logged_in = c.command(login)
    if options.condstore:
        # As imapflow does at every connect: each FETCH with FLAGS then carries MODSEQ.
        c.command("ENABLE CONDSTORE")
    if options.cpu_process and not options.server_pid:
        name, parent = options.cpu_process.split("@")
        pid = newest_process(name, int(parent))
    # LITERAL+ as the server announces it after LOGIN (or in its greeting when it does not).
    caps = capabilities(logged_in) or c.capabilities
    if not caps:
        caps = {word.upper() for line in c.query("CAPABILITY") for word in line.split()}
    literal_plus = "LITERAL+" in caps and not options.synchronizing
    elapsed, cpu, replies = measure(lambda: c.append_all(appends, literal_plus))
    rate = len(corpus) / (elapsed / 1000)
    # Without LITERAL+ the row measures something else, and says so (no match in the table).
    how = "pipelined" if literal_plus else "with synchronizing literals"
    rows.append([f"APPEND {len(corpus)} {how} ({corpus_mb} MB)", f"{rate:.0f} msgs/s", rate, cpu])
    # At once: each command once, in the order of the table.
    since = imap_date(time.time() - 86400)
    searches = [f"TEXT {rare_word}", "FROM sender42@example.com", f"SINCE {since}"]
    commands = [
        "SELECT INBOX",
        "FETCH 1:* (UID FLAGS)",
        "FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])",
        "FETCH 1:* (ENVELOPE BODYSTRUCTURE)",
        "FETCH 1:* BODY.PEEK[]",
        *[f"UID SEARCH {criteria}" for criteria in searches],
        "STORE 1:* +FLAGS.SILENT (\\Seen)",
    ]
    for command in commands:
        elapsed, cpu, _ = measure(lambda: c.command(command))
        ms(command, elapsed, cpu)
    c.command("CREATE Copy")
    elapsed, cpu, _ = measure(lambda: c.command("COPY 1:* Copy"))
    ms("COPY 1:*", elapsed, cpu)
    if options.condstore:
        # A resync: every message changed since MODSEQ 1 (the STORE above changed them all).
        command = "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)"
        elapsed, cpu, _ = measure(lambda: c.command(command))
        ms(command, elapsed, cpu)
    if options.server_pid:
        rss = rss_mb(options.server_pid)
        rows.append([f"server RSS after ({corpus_mb} MB of mail)", f"{rss:.0f} MB", rss, math.nan])
        client_cpu.append(math.nan)
    # The figures only count if every APPEND succeeded and the searches found the right
    # messages: checked after the timed rows, so SELECT follows the burst at once.
    check_appends(replies, len(corpus))
    expected = [
        sum(1 for n in range(len(corpus)) if n % 100 == 42),
        sum(1 for n in range(len(corpus)) if n % 97 == 42),
        len(corpus),
    ]
    for criteria, count in zip(searches, expected):
        lines = c.query(f"UID SEARCH RETURN (COUNT) {criteria}")
        if not lines or not lines[0].endswith(f" COUNT {count}"):
            raise RuntimeError(f"SEARCH {criteria}: expected {count} messages, got {lines}")
    c.command("LOGOUT")
    c.close()
    return rows, client_cpu


def parse_options(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True, help="a bench/write_corpus.ts file")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--connect", help="host:port")
    parser.add_argument("--user", default="bench")
    parser.add_argument("--pass", dest="password", default="pw")
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--cpu-process", help="name@parent pid of the process serving the login")
    parser.add_argument("--synchronizing", action="store_true", help="no LITERAL+ even if offered")
    parser.add_argument(
        "--condstore",
        action="store_true",
        help="ENABLE CONDSTORE after LOGIN, as imapflow does; one CHANGEDSINCE row more",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--target-from-stdin", action="store_true")
    return parser, parser.parse_args(argv)


def no_nan(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def main():
    parser, options = parse_options(sys.argv[1:])
    corpus, rare_word = load_corpus(options.corpus, options.messages)
    appends = Appends(corpus, "INBOX")
    if options.target_from_stdin:
        print("ready", flush=True)
        options = parser.parse_args(sys.argv[1:] + sys.stdin.readline().split())
    if not options.connect:
        parser.error("--connect host:port is missing")
    rows, client_cpu = run_cold(options, appends, rare_word)
    if options.json:
        print(json.dumps({"clientCpuMs": [no_nan(cpu) for cpu in client_cpu]}))
        print(json.dumps([[label, text, value, no_nan(cpu)] for label, text, value, cpu in rows]))
        return
    print(f"IMAP first touch (cold), Python client, server at {options.connect}")
    print("| phase | value | server CPU | client CPU |\n| --- | --- | --- | --- |")
    for (label, text, _, cpu), own in zip(rows, client_cpu):
        server = "" if math.isnan(cpu) else f"{cpu:.2f} ms"
        client = "" if math.isnan(own) else f"{own:.2f} ms"
        print(f"| {label} | {text} | {server} | {client} |")


if __name__ == "__main__":
    main()
