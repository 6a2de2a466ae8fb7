# F8: NUL accepted in MAIL FROM and EHLO and written into the stored Return-Path/Received headers.
import urllib.request, json
from common import *
s=conn(SMTP); until(s,b'\r\n')
s.sendall(b'EHLO x\x00y\r\nMAIL FROM:<a\x00b@c.d>\r\nRCPT TO:<nulu@example.com>\r\nDATA\r\n'); print(until(s,b'354 ')[-120:])
s.sendall(b'Subject: t\r\n\r\nbody\r\n.\r\n'); print(until(s,b'\r\n')); s.close()
print(urllib.request.urlopen(f'http://127.0.0.1:{HTTP}/messages/nulu%3AINBOX%3A1/raw').read()[:120])
i=conn(IMAP); until(i,b'\r\n'); i.sendall(b'a LOGIN nulu p\r\nb SELECT INBOX\r\nc FETCH 1 BODY.PEEK[HEADER]\r\n'); r=until(i,b'c OK'); print(r[r.find(b'* 1 FETCH'):][:120])
