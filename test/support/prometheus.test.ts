import { describe, expect, it } from 'vitest';
import { parseExposition } from './prometheus.js';

const GOOD = `# HELP jobs_total Jobs
# TYPE jobs_total counter
jobs_total{kind="a",path="x\\"y\\\\z"} 3
jobs_total{kind="b"} 0

# TYPE depth gauge
depth -1.5e3
# TYPE lag gauge
lag Nan
# HELP lat Latency
# TYPE lat histogram
lat_bucket{le="0.1",s="a"} 1
lat_bucket{le="1",s="a"} 2
lat_bucket{le="+Inf",s="a"} 2
lat_sum{s="a"} 0.7
lat_count{s="a"} 2
`;

describe('the strict Prometheus text parser', () => {
  it('reads families, types, help, labels with escapes, and histograms', () => {
    const f = parseExposition(GOOD);
    expect([...f.keys()]).toEqual(['jobs_total', 'depth', 'lag', 'lat']);
    expect(f.get('lag')!.samples[0]!.value).toBeNaN();
    expect(f.get('jobs_total')).toMatchObject({ type: 'counter', help: 'Jobs' });
    expect(f.get('jobs_total')!.samples[0]).toEqual({ name: 'jobs_total', labels: { kind: 'a', path: 'x"y\\z' }, value: 3 });
    expect(f.get('depth')!.samples[0]!.value).toBe(-1500);
    expect(f.get('lat')!.samples).toHaveLength(5);
  });

  it.each([
    ['a sample without a TYPE', 'nope 1\n'],
    ['a malformed sample', '# TYPE a gauge\na{x="1" 2\n'],
    ['an unquoted label value', '# TYPE a gauge\na{x=1} 2\n'],
    ['a value that is not a number', '# TYPE a gauge\na 1.2.3\n'],
    ['an unknown type', '# TYPE a thing\n'],
    ['a second TYPE', '# TYPE a gauge\n# TYPE a gauge\n'],
    ['a repeated series', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'],
    ['a family split in two', '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="2"} 1\n'],
    ['a negative counter', '# TYPE c counter\nc -1\n'],
    ['buckets that are not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['no newline at the end', '# TYPE a gauge\na 1'],
    ['a bad escape', '# TYPE a gauge\na{x="\\t"} 1\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
