from common import *
import threading, sys
N=int(sys.argv[1]); DUR=float(sys.argv[2])
status('before')
stop=False; sent=[0]*N
def flood(k):
    s=conn(SMTP,30); until(s,b"\r\n")
    s.sendall(b'EHLO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<flood@example.com>\r\nDATA\r\n'); until(s,b"354 ")
    chunk=(b'x'*1022+b'\r\n')*1024
    try:
        while not stop:
            s.sendall(chunk); sent[k]+=len(chunk)
    except Exception as e: print('flood',k,'ended', repr(e))
    s.close()
ths=[threading.Thread(target=flood,args=(k,)) for k in range(N)]
for t in ths: t.start()
t0=time.time()
while time.time()-t0<DUR:
    time.sleep(3); print(f't={time.time()-t0:.0f}s sent={sum(sent)>>20}MB', end=' '); status('flooding')
stop=True
for t in ths: t.join(10)
time.sleep(2); status('after')
