# F4: in-flight SMTP DATA / IMAP APPEND bytes have no aggregate bound (only connections x max size).
# usage: SPID=<pid> SMTP=.. IMAP=.. python3 f4_inflight_messages.py <connections> smtp|imap
import sys, threading, time
from common import *
N=int(sys.argv[1]); proto=sys.argv[2]; SZ=26214400-4096; socks=[]
def one(i):
    if proto=='smtp':
        s=conn(SMTP,120); until(s,b'\r\n'); s.sendall(b'EHLO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<hold@example.com>\r\nDATA\r\n'); until(s,b'354 ')
    else:
        s=conn(IMAP,120); until(s,b'\r\n'); s.sendall(b'a LOGIN hold%d p\r\nb APPEND INBOX {%d}\r\n'%(i,SZ)); until(s,b'+ ')
    s.sendall(b'Subject: hold\r\n\r\n'+(b'x'*1022+b'\r\n')*((SZ-20)//1024)); socks.append(s)   # never finished
status('before'); ths=[threading.Thread(target=one,args=(i,)) for i in range(N)]
for t in ths: t.start()
for t in ths: t.join()
for k in range(3): time.sleep(3); status(f'{len(socks)} unfinished {proto} messages of ~25 MB')
for s in socks: s.close()
time.sleep(5); status('closed')
