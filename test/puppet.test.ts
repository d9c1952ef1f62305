import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { waitFor } from './support/processes.js';
import { startTestServer, type TestServer } from './support/server.js';
import { makeTestPki, type TestPki } from './support/tls-certs.js';

/** Puppet 7 from Debian (`apt-get install puppet puppet-terminus-puppetdb`); the suite is skipped without it. */
const HAVE_PUPPET = spawnSync('puppet', ['--version'], { encoding: 'utf8' }).status === 0;
const CERTNAME = 'agent1.example.com';

/** A private confdir: Puppet runs offline, stores configs, facts and reports through its PuppetDB terminus. */
function confdir(port: number, pki: TestPki): { dir: string; site: string } {
  const dir = mkdtempSync(join(tmpdir(), 'muster-puppet-'));
  for (const d of ['ssl/certs', 'var', 'log', 'run', 'code']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(pki.caCert, join(dir, 'ssl/certs/ca.pem'));
  writeFileSync(
    join(dir, 'puppet.conf'),
    [
      '[main]',
      `certname = ${CERTNAME}`,
      `vardir = ${dir}/var`,
      `ssldir = ${dir}/ssl`,
      `logdir = ${dir}/log`,
      `rundir = ${dir}/run`,
      `codedir = ${dir}/code`,
      'certificate_revocation = false',
      'storeconfigs = true',
      'storeconfigs_backend = puppetdb',
      'report = true',
      'reports = puppetdb',
      `route_file = ${dir}/routes.yaml`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'puppetdb.conf'), `[main]\nserver_urls = https://localhost:${port}\nverify_client_certificate = false\nsoft_write_failure = false\n`);
  writeFileSync(join(dir, 'routes.yaml'), '---\napply:\n  facts:\n    terminus: facter\n    cache: puppetdb_apply\n');
  const site = join(dir, 'site.pp');
  writeFileSync(site, `file { '${dir}/hello': ensure => file, content => "hi\\n" }\nnotify { 'muster': }\n`);
  return { dir, site };
}

function puppetApply(dir: string, site: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('puppet', ['apply', '--confdir', dir, '--detailed-exitcodes', site], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe.each(DATABASES)('Puppet 7 with its PuppetDB terminus against muster on $name', ({ name, skip }) => {
  let s: TestServer;
  let pki: TestPki;
  beforeAll(async () => {
    if (skip || !HAVE_PUPPET) return;
    pki = makeTestPki();
    s = await startTestServer(name, { tls_cert: pki.serverCert, tls_key: pki.serverKey, pdb_auth: 'loopback' });
  });
  afterAll(async () => {
    if (!skip && HAVE_PUPPET) await s.stop();
  });

  it.skipIf(skip || !HAVE_PUPPET)(
    'stores the facts, catalog and report of a `puppet apply` run, and they are queryable',
    async () => {
      const port = Number(new URL(s.url).port);
      const { dir, site } = confdir(port, pki);
      const run = await puppetApply(dir, site);
      expect([0, 2], run.output).toContain(run.code);
      // The terminus waits for nothing; the commands are processed asynchronously.
      const get = async (path: string) => {
        const { request } = await import('node:https');
        return new Promise<{ status: number; body: any }>((resolve, reject) => {
          const req = request(`${s.url}${path}`, { ca: pki.read(pki.caCert), headers: { authorization: `Bearer ${s.adminKey}` } }, (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          });
          req.on('error', reject);
          req.end();
        });
      };
      // Only observable by asking: poll until all three commands are processed.
      const node = await waitFor(async () => {
        const n = (await get(`/pdb/query/v4/nodes/${CERTNAME}`)).body;
        return n.facts_timestamp && n.catalog_timestamp && n.report_timestamp ? n : undefined;
      }, 'the three commands to be processed');
      expect(node).toMatchObject({
        certname: CERTNAME,
        deactivated: null,
        facts_timestamp: expect.any(String),
        catalog_timestamp: expect.any(String),
        report_timestamp: expect.any(String),
      });
      const facts = (await get(`/pdb/query/v4/factsets/${CERTNAME}`)).body;
      const names = facts.facts.data.map((f: { name: string }) => f.name);
      expect(names).toEqual(expect.arrayContaining(['os', 'kernel', 'networking', 'trusted']));
      const files = (await get(`/pdb/query/v4/resources?query=${encodeURIComponent(JSON.stringify(['=', 'type', 'File']))}`)).body;
      expect(files.map((r: { title: string }) => r.title)).toContain(`${dir}/hello`);
      const reports = (await get(`/pdb/query/v4/reports?query=${encodeURIComponent(JSON.stringify(['=', 'certname', CERTNAME]))}`)).body;
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ certname: CERTNAME, 'latest_report?': true, status: 'changed' });
      const discarded = (await get('/v1/ingest/discarded')).body;
      expect(discarded.items).toEqual([]);
    },
    180_000,
  );
});
