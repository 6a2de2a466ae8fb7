import http2 from 'node:http2';
const s = http2.connect(`http://127.0.0.1:${process.argv[2]}`);
const r = s.request({':method':'POST', ':path':'/chaos', ':authority':'evil.example', 'origin':'http://evil.example', 'content-type':'application/json'});
let body=''; r.on('response', h=>console.log('status', h[':status'])); r.on('data', d=>body+=d); r.on('end', ()=>{console.log(body.slice(0,200)); s.close();});
r.end(JSON.stringify({protocol:'smtp', command:'RCPT', code:451, enhanced:'4.7.1', percent:100}));
