#!/bin/bash
# F2: when the process runs out of file descriptors, Deno.serve's accept loop rejects unhandled and the
# whole server (SMTP, IMAP, POP3 too) exits. HTTP connections are not capped, so a local client can get there.
# A low fd limit stands in for "tens of thousands of HTTP connections" (the audit kept under ~2,000 connections).
cd "${1:-/tmp/audit-hostile}"
bash -c 'ulimit -n 1100; exec env SMTP_PORT=42525 IMAP_PORT=42143 POP3_PORT=42110 HTTP_PORT=48025 deno run -A main.ts' > /tmp/f2.log 2>&1 &
SRV=$!; sleep 5
python3 - <<'PY'
import socket, time
socks=[]
for i in range(1150):                      # idle HTTP connections, nothing sent
    try: socks.append(socket.create_connection(('127.0.0.1',48025),timeout=5))
    except Exception as e: print('client: connection', i, 'failed:', e); break
time.sleep(2)
for port in (42525, 48025):
    try: s=socket.create_connection(('127.0.0.1',port),timeout=3); print(port, s.recv(60))
    except Exception as e: print(port, 'after:', e)
PY
wait $SRV; echo "server exit status: $?"; sed 's/\x1b\[[0-9;]*m//g' /tmp/f2.log | tail -3
