/**
 * The source of a stand-in for bin/muster.js, for `muster start` tests: the
 * same command lines and files as the real server and agent, none of the
 * work. `server` answers /readyz and /v1/systems (the agent counts as
 * connected while its `running` file exists); `agent enroll` writes
 * agent.conf; `agent run` creates `running`. On SIGTERM each appends its name
 * to DATA/stopped, so a test can see the order. A file `fail-server` or
 * `fail-enroll` beside the script makes that step fail.
 */
export const FAKE_BIN = String.raw`
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const flag = (name) => args[args.indexOf(name) + 1];
const [cmd, sub] = args;
const fails = (step) => fs.existsSync(path.join(__dirname, 'fail-' + step));
const stopped = (dataDir, name) => fs.appendFileSync(path.join(dataDir, 'stopped'), name + '\n');
if (cmd === 'server') {
  if (fails('server')) { console.error('cannot bind: EADDRINUSE'); process.exit(1); }
  const dir = flag('--data-dir');
  const [host, port] = flag('--listen').split(':');
  for (const f of ['admin-api-key', 'enrollment-key']) if (!fs.existsSync(path.join(dir, f))) fs.writeFileSync(path.join(dir, f), f + '-secret\n', { mode: 0o600 });
  const server = http.createServer((req, res) => {
    if (req.url === '/readyz') return res.end('ok');
    if (req.url === '/v1/systems' && req.headers.authorization === 'Bearer admin-api-key-secret') {
      const connected = fs.existsSync(path.join(dir, 'agent', 'running'));
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ items: [{ id: 'sys1', connected }], next_cursor: null }));
    }
    res.statusCode = 404;
    res.end();
  });
  server.listen(Number(port), host, () => console.log('listening'));
  process.on('SIGTERM', () => { stopped(dir, 'server'); process.exit(0); });
} else if (cmd === 'agent' && sub === 'enroll') {
  const dir = flag('--state-dir');
  if (fails('enroll') || flag('--enrollment-key') !== 'enrollment-key-secret') { console.error('enrollment refused'); process.exit(1); }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'agent.conf'), JSON.stringify({ systemKey: 'sys1', server: flag('--server') }));
  fs.appendFileSync(path.join(dir, 'enrollments'), 'x');
  console.log('enrolled');
} else if (cmd === 'agent' && sub === 'run') {
  const dir = flag('--state-dir');
  fs.writeFileSync(path.join(dir, 'running'), '');
  console.log('agent running');
  setInterval(() => {}, 1000);
  process.on('SIGTERM', () => { fs.rmSync(path.join(dir, 'running'), { force: true }); stopped(path.dirname(dir), 'agent'); process.exit(0); });
}
`;
