# F3: IDLE sessions that never read get every update written to an unbounded output queue.
# usage: SPID=<pid> IMAP=.. SMTP=.. python3 f3_imap_idle_unread.py <idlers> <rounds>
import sys, socket, time
from common import *
N=int(sys.argv[1]); ROUNDS=int(sys.argv[2])
def waittag(s,tag):
    s.settimeout(120); b=b''
    while not ((b.startswith(tag+b' ') or b'\r\n'+tag+b' ' in b) and b.endswith(b'\r\n')):
        c=s.recv(1<<20)
        if not c: break
        b+=c
    return b
B=conn(IMAP); until(B,b'\r\n'); B.sendall(b'a LOGIN idlevictim p\r\n'); waittag(B,b'a')
msg=b'Subject: i\r\n\r\nx\r\n'
B.sendall(b''.join(b'x%d APPEND INBOX {%d+}\r\n%s\r\n'%(i,len(msg),msg) for i in range(1000))); waittag(B,b'x999')
B.sendall(b's SELECT INBOX\r\n'); waittag(B,b's')
status('before'); idlers=[]
for i in range(N):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096); s.connect(('127.0.0.1',IMAP))
    s.sendall(b'a LOGIN idlevictim p\r\nb SELECT INBOX\r\nc IDLE\r\n'); idlers.append(s)      # never read again
time.sleep(3); status(f'{N} IDLE sessions, never reading')
A=b' '.join(b'keywordA%03d'%k for k in range(100)); Bk=b' '.join(b'keywordB%03d'%k for k in range(100))
for r in range(ROUNDS):
    B.sendall(b'f%d STORE 1:* FLAGS.SILENT (%s)\r\n'%(r, A if r%2==0 else Bk)); waittag(B,b'f%d'%r)
    status(f'after STORE round {r+1}')
for s in idlers: s.close()
time.sleep(3); status('idlers closed')
