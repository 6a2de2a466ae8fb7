# F6: HTTP has no timeouts and no per-address share: a few stalled requests lock features out for good.
import json, time
from common import *
def post_inject(size):
    body=json.dumps({"to":"bob@example.com","subject":"s","text":"x"*size}).encode()
    s=conn(HTTP); s.sendall(b'POST /inject HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n'%len(body)+body)
    r=until(s,b'}\n'); s.close(); return r.split(b'\r\n')[0]
def get(path):
    s=conn(HTTP); s.sendall(b'GET '+path+b' HTTP/1.1\r\nHost: localhost\r\n\r\n'); r=until(s,b'\r\n',5); s.close(); return r.strip()
held=[]
for i in range(2):   # (a) two chunked bodies that never finish: each reserves maxHttpBody (30 MiB) of the 64 MiB budget
    s=conn(HTTP); s.sendall(b'POST /inject HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n'); held.append(s)
for i in range(256): # (b) 256 event streams that are never read
    s=conn(HTTP); s.sendall(b'GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n'); held.append(s)
time.sleep(1)
for t in (0, 120):
    time.sleep(t)
    print(f't+{t}s: inject 5 MB ->', post_inject(5_000_000), '| GET /events ->', get(b'/events'), '| GET /api/v1/events ->', get(b'/api/v1/events'))
for s in held: s.close()
time.sleep(1); print('released: inject 5 MB ->', post_inject(5_000_000), '| GET /events ->', get(b'/events'))
