// Start a server like the bench does, sample /metrics + /proc during workloads.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const ROOT = '/work/main';
const { benchFacts, benchReport, benchCatalog } = await import(`${ROOT}/dist/bench/ingest-payloads.js`);
const { launcherNodeFlags } = await import(`${ROOT}/dist/src/lib/launcher.js`);
const BIN = `${ROOT}/bin/muster.js`;
const extra = (process.env.EXTRA ?? '').split(' ').filter(Boolean);
const dataDir = mkdtempSync(join(tmpdir(), 'probe-'));
const port = 18000 + Math.floor(Math.random() * 1000);
const key = 'mk_bench_' + 'a'.repeat(32);
const child = spawn(process.execPath, [...launcherNodeFlags(BIN), ...extra, BIN, 'server', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
  env: { ...process.env, MUSTER_BOOTSTRAP_API_KEY: key, MUSTER_LOG_LEVEL: 'warn', MUSTER_INGEST_WORKERS: '2', MUSTER_INGEST_POLL_MS: '200' }, stdio: ['ignore', 'ignore', 'inherit'] });
const url = `http://127.0.0.1:${port}`;
for (;;) { try { if ((await fetch(`${url}/readyz`)).ok) break; } catch {} await new Promise(r => setTimeout(r, 100)); }
const rss = () => { const s = readFileSync(`/proc/${child.pid}/status`, 'utf8'); const kb = n => Number(new RegExp(`^${n}:\\s+(\\d+)`, 'm').exec(s)[1]) / 1024; return { rss: kb('VmRSS').toFixed(0), hwm: kb('VmHWM').toFixed(0), anon: kb('RssAnon').toFixed(0), file: kb('RssFile').toFixed(0) }; };
async function metrics() {
  const t = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).text();
  const out = {};
  for (const line of t.split('\n')) {
    let m = /^nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\d+)/.exec(line); if (m) out['tot_' + m[1]] = (m[2] / 2 ** 20).toFixed(1);
    m = /^nodejs_heap_size_used_bytes (\d+)/.exec(line); if (m) out.heapUsed = (m[1] / 2 ** 20).toFixed(1);
    m = /^nodejs_heap_size_total_bytes (\d+)/.exec(line); if (m) out.heapTotal = (m[1] / 2 ** 20).toFixed(1);
    m = /^nodejs_external_memory_bytes (\d+)/.exec(line); if (m) out.external = (m[1] / 2 ** 20).toFixed(1);
  }
  return out;
}
console.log('idle', rss(), await metrics());
const cert = i => `node-${String(i).padStart(5, '0')}.example.com`;
const W = [
  ['facts', 'replace_facts', 5, 5000, i => ({ certname: cert(i), environment: 'production', producer_timestamp: new Date(Date.UTC(2026, 10, 23, 10, 1)).toISOString(), producer: 'p', values: benchFacts(cert(i), 1) })],
  ['facts2', 'replace_facts', 5, 5000, i => ({ certname: cert(i), environment: 'production', producer_timestamp: new Date(Date.UTC(2026, 10, 23, 10, 2)).toISOString(), producer: 'p', values: benchFacts(cert(i), 2) })],
  ['report', 'store_report', 8, 5000, i => benchReport(cert(i), 1, 20)],
  ['catalog', 'replace_catalog', 9, 1000, i => benchCatalog(cert(i), 1, 50)],
].filter(w => !process.env.ONLY || w[0].startsWith(process.env.ONLY) || w[0] === 'facts');
function post(agent, path, body) { return new Promise((res, rej) => { const r = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (x) => { x.resume(); x.on('end', () => res(x.statusCode)); }); r.on('error', rej); r.end(body); }); }
for (const [name, cmd, ver, count, payload] of W) {
  let next = 0; const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  let peak = {}; let stop = false;
  const sampler = (async () => { while (!stop) { const m = await metrics(); for (const [k, v] of Object.entries(m)) peak[k] = Math.max(peak[k] ?? 0, +v); await new Promise(r => setTimeout(r, 100)); } })();
  const t0 = performance.now(); if (name === 'catalog' && process.env.SNAP) setTimeout(() => { process.kill(child.pid, 'SIGUSR2'); console.log('snap sent'); }, 800);
  await Promise.all(Array.from({ length: 16 }, async () => { while (next < count) { const p = payload(next++); const s = await post(agent, `/pdb/cmd/v1?command=${cmd}&version=${ver}&certname=${p.certname}`, JSON.stringify(p)); if (s !== 200) throw new Error('HTTP ' + s); } }));
  for (;;) { const c = await (await fetch(`${url}/v1/ingest/counts`, { headers: { authorization: `Bearer ${key}` } })).json(); if (c.queued === 0 && c.processing === 0) break; await new Promise(r => setTimeout(r, 50)); }
  const dt = (performance.now() - t0) / 1000; stop = true; await sampler;
  console.log(name, (count / dt).toFixed(0) + '/s', rss(), 'peak', peak);
}
child.kill('SIGTERM');
