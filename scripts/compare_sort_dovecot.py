"""Cross-check of SORT, ESORT and THREAD against Dovecot 2.3 on random mailboxes (issue 15).

Not a test (it needs a Dovecot): a tool to re-run the comparison the transcripts' expected
lines come from. Start a private Dovecot and an Elektromail, then run this with a seed and a
message count; it APPENDs the same random messages (tricky subjects, addresses, dates,
Message-IDs, References and In-Reply-To, duplicates) to a fresh user on both and prints every
command whose answer differs.

    # /tmp/dvs/dovecot.conf: protocols = imap, listen = 127.0.0.1, ssl = no,
    #   disable_plaintext_auth = no, passdb/userdb static (password=x, uid=nobody),
    #   mail_location = maildir:/tmp/dvs/home/%u/Maildir, imap-login port 24917
    /usr/sbin/dovecot -c /tmp/dvs/dovecot.conf
    IMAP_PORT=24918 POP3_PORT=0 SMTP_PORT=0 deno task start &
    python3 scripts/compare_sort_dovecot.py 7 80     # seed 7, 80 messages
"""
import imaplib, os, random, sys, time
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
N = int(sys.argv[2]) if len(sys.argv) > 2 else 40
SUBJ = ["hello", "Re: hello", "RE: [list] Fwd: hello", "Fwd: Re: hello (fwd)", "[fwd: hello]",
        "=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "Re: =?utf-8?q?gr=C3=BC=C3=9Fe?=", "[list] [other] topic", "Re:  topic",
        "", None, "  spaced   out\t  subject  ", "re: re: re:", "[blob]", "Fw: zeta", "alpha", "Alpha", "(fwd)",
        "[fwd: [list] Re: nested] (fwd)", "Re[2]: x", "Re [foo]: bar", "[x]"]
FROMS = ["Bob <bob@example.com>", "alice@example.com", '"Zed, Z" <zed@x.org>', "=?utf-8?q?=C3=89mile?= <emile@x.org>",
         None, "undisclosed-recipients:;", "carol (Carol C) <carol@x>", "<@x.org>", "dave", "\"quoted local\"@x.org",
         "Émile <e2@x>", "BOB <Bob@example.com>", "b@x, a@y"]
DATES = ["Tue, 24 Nov 2026 23:30:00 -0800", "1 Dec 2026 10:00 +1400", None, "yesterday", "Fri, 13 Mar 98 09:00:00 GMT",
         "Wed, 25 Nov 2026 07:30:00 +0000", "25 Nov 2026 07:30 EST", "Thu, 26 Nov 2026 01:02:03 +0100 (CET)",
         "Sat, 31 Feb 2026 10:00:00 +0000"]
def msg(i, ids):
    h = []
    s = random.choice(SUBJ)
    if s is not None: h.append("Subject: " + s)
    f = random.choice(FROMS)
    if f is not None: h.append("From: " + f)
    t = random.choice(FROMS)
    if t is not None: h.append("To: " + t)
    c = random.choice(FROMS)
    if c is not None and random.random() < 0.5: h.append("Cc: " + c)
    d = random.choice(DATES)
    if d is not None: h.append("Date: " + d)
    r = random.random()
    mid = "<m%d@x>" % random.randrange(0, N) if r < 0.15 else ("<m%d@x>" % i if r < 0.9 else None)
    if mid: h.append("Message-ID: " + mid)
    if ids and random.random() < 0.7:
        refs = random.sample(ids + ["<gone%d@x>" % random.randrange(5)], min(len(ids), random.randrange(1, 4)))
        if random.random() < 0.5: h.append("References: " + " ".join(refs))
        else: h.append("In-Reply-To: " + refs[-1])
    ids.append("<m%d@x>" % i)
    body = "x" * random.randrange(0, 30)
    return ("\r\n".join(h) + "\r\n\r\n" + body + "\r\n").encode()
ids = []
msgs = [msg(i, ids) for i in range(N)]
idates = [time.gmtime(1790000000 + random.choice([0, 3600, 7200, 7200, 86400]) ) for i in range(N)]
CMDS = [("SORT", "(ARRIVAL)"), ("SORT", "(DATE)"), ("SORT", "(REVERSE DATE)"), ("SORT", "(SUBJECT)"), ("SORT", "(FROM)"),
        ("SORT", "(TO)"), ("SORT", "(CC)"), ("SORT", "(SIZE)"), ("SORT", "(REVERSE SIZE)"), ("SORT", "(DISPLAYFROM)"),
        ("SORT", "(DISPLAYTO)"), ("SORT", "(REVERSE SUBJECT DATE)"), ("SORT", "(REVERSE ARRIVAL)"),
        ("THREAD", "ORDEREDSUBJECT"), ("THREAD", "REFERENCES"), ("THREAD", "REFS")]
def run(port, user):
    m = imaplib.IMAP4("127.0.0.1", port); m.login(user, "x")
    for raw, d in zip(msgs, idates):
        m.append("INBOX", None, imaplib.Time2Internaldate(time.mktime(d) - time.timezone), raw)
    m.select("INBOX")
    out = []
    for kind, arg in CMDS:
        if kind == "SORT": typ, data = m.sort(arg, "UTF-8", "ALL")
        else: typ, data = m.thread(arg, "UTF-8", "ALL")
        out.append((kind + " " + arg, typ, data))
    typ, data = m._simple_command("SORT", "RETURN (MIN MAX COUNT ALL)", "(SUBJECT)", "UTF-8", "ALL")
    out.append(("ESORT", typ, [x.split(b")",1)[1] for x in m.untagged_responses.pop("ESEARCH", [])]))
    m.logout()
    return out
user = "u%d" % int(time.time()*1000)
DOVECOT = int(os.environ.get("DOVECOT_PORT", "24917"))
OURS = int(os.environ.get("IMAP_PORT", "24918"))
a = run(DOVECOT, user); b = run(OURS, user)
bad = 0
for (k, t1, d1), (_, t2, d2) in zip(a, b):
    if d1 != d2:
        bad += 1
        print("DIFF", k, "\n dovecot:", d1, "\n ours:   ", d2)
print("seed", sys.argv[1:], "diffs", bad)
if bad and "-v" in sys.argv:
    for i, raw in enumerate(msgs): print(i + 1, raw)
