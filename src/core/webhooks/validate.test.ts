import { describe, expect, it } from 'vitest';
import { isPrivateAddress } from '../../lib/private-address.js';
import { checkEvents, checkUrl } from './validate.js';

describe('webhook input', () => {
  it('takes http and https URLs, and refuses other schemes, credentials and non-URLs with the field named', () => {
    expect(checkUrl('https://hooks.example.com/a?b=1', true)).toBe('https://hooks.example.com/a?b=1');
    expect(checkUrl('http://127.0.0.1:8080/x', true)).toBe('http://127.0.0.1:8080/x');
    expect(() => checkUrl('file:///etc/passwd', true)).toThrow(/^url: must be http or https, not file$/);
    expect(() => checkUrl('javascript:alert(1)', true)).toThrow(/not javascript/);
    expect(() => checkUrl('https://a:b@example.com/', true)).toThrow(/credentials/);
    expect(() => checkUrl('example.com/x', true)).toThrow(/is not a URL/);
    expect(() => checkUrl(`https://example.com/${'a'.repeat(2048)}`, true)).toThrow(/at most 2048/);
    expect(() => checkUrl(42, true)).toThrow(/^url:/);
  });

  it('refuses literal loopback and private addresses only when told to', () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://10.1.2.3/',
      'http://[::1]:80/',
      'http://192.168.0.10/',
      'http://[::ffff:10.0.0.1]/',
      'http://169.254.169.254/',
    ])
      expect(() => checkUrl(url, false), url).toThrow(/loopback or private address/);
    expect(checkUrl('http://93.184.216.34/', false)).toBe('http://93.184.216.34/');
    expect(checkUrl('https://hooks.example.com/', false)).toBe('https://hooks.example.com/');
  });

  it('classifies addresses', () => {
    expect(
      ['127.0.0.1', '10.0.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1'].filter(
        (a) => !isPrivateAddress(a),
      ),
    ).toEqual([]);
    expect(['8.8.8.8', '172.32.0.1', '2001:4860:4860::8888', 'example.com'].filter(isPrivateAddress)).toEqual([]);
  });

  it('takes known event names without repeats, and names an unknown one', () => {
    expect(checkEvents(['run.failed', 'job.completed', 'run.failed'])).toEqual(['run.failed', 'job.completed']);
    expect(() => checkEvents(['ping'])).toThrow(/unknown event "ping"/);
    expect(() => checkEvents(['job.done'])).toThrow(
      /unknown event "job.done": the events are job.completed, run.failed, system.enrolled, system.deleted, ingest.discarded/,
    );
    expect(() => checkEvents([])).toThrow(/at least one/);
    expect(() => checkEvents('job.completed')).toThrow(/at least one/);
  });
});
