# Shared helpers. Ports/pid via env: SMTP, IMAP, POP3, HTTP, SPID (the deno server's pid).
import os, socket, time
SMTP=int(os.environ.get('SMTP',2525)); IMAP=int(os.environ.get('IMAP',1143)); POP3=int(os.environ.get('POP3',1110)); HTTP=int(os.environ.get('HTTP',8025))
SPID=int(os.environ['SPID'])
def rss():
    try: return int([l for l in open(f'/proc/{SPID}/status') if l.startswith('VmRSS')][0].split()[1])//1024
    except FileNotFoundError: return 'DEAD'
def conn(port, t=30): return socket.create_connection(('127.0.0.1', port), timeout=t)
def until(s, pat, t=30):
    s.settimeout(t); b=b''
    try:
        while pat not in b:
            c=s.recv(1<<16)
            if not c: break
            b+=c
    except socket.timeout: b+=b'<TIMEOUT>'
    return b
def smtp_noop_ms():
    t=time.time()
    try: s=conn(SMTP,10); until(s,b'\r\n',10); s.sendall(b'NOOP\r\n'); r=until(s,b'\r\n',10); s.close(); return round((time.time()-t)*1000,1), r.strip()[:20]
    except Exception as e: return round((time.time()-t)*1000,1), repr(e)
def status(tag): print(f'[{tag}] rss={rss()} MB  smtp NOOP={smtp_noop_ms()}', flush=True)
def smtp_send(rcpt, data):
    s=conn(SMTP,120); until(s,b'\r\n')
    s.sendall(b'EHLO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<'+rcpt+b'>\r\nDATA\r\n'); until(s,b'354 ')
    s.sendall(data+b'.\r\n'); r=until(s,b'\r\n',120); s.close(); return r
