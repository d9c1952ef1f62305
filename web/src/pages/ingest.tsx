import { useEffect, useRef, useState } from 'react';
import type { IngestCommand, IngestCommandList, IngestCounts } from '../../../src/api/native/index.js';
import { api, storedKey } from '../api.js';
import { Ago, ErrorNote, useAsync } from '../components.js';
import { useCan } from '../session.js';

/** Counts every 5 s, and the processing rate from the change in `done` between two reads. */
function useIngestStats() {
  const [counts, setCounts] = useState<IngestCounts | null>(null);
  const [rate, setRate] = useState<number | null>(null);
  const last = useRef<{ at: number; done: number } | null>(null);
  useEffect(() => {
    const read = () =>
      api<IngestCounts>('GET', '/ingest/counts').then(
        (c) => {
          const now = performance.now();
          const done = c.done ?? 0;
          if (last.current) setRate(((done - last.current.done) * 1000) / (now - last.current.at));
          last.current = { at: now, done };
          setCounts(c);
        },
        () => {},
      );
    void read();
    const t = setInterval(read, 5000);
    return () => clearInterval(t);
  }, []);
  return { counts, rate };
}

/** How many nodes have facts, from the PuppetDB-compatible query API (which takes the same key). */
async function nodesWithFacts(signal: AbortSignal): Promise<number> {
  const res = await fetch('/pdb/query/v4/nodes', { headers: { authorization: `Bearer ${storedKey() ?? ''}` }, signal });
  if (!res.ok) throw new Error(`nodes: ${res.status}`);
  const nodes = (await res.json()) as Array<{ facts_timestamp?: string | null }>;
  return nodes.filter((n) => n.facts_timestamp).length;
}

function prettyPayload(payload: string | null): string {
  if (payload === null) return '(none kept)';
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

function DeadLetter({ entry, canAct, changed }: { entry: IngestCommand; canAct: boolean; changed: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const act = async (method: 'POST' | 'DELETE') => {
    try {
      await api(method, method === 'POST' ? `/ingest/discarded/${entry.id}/retry` : `/ingest/discarded/${entry.id}`);
      changed();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <details className="dead-letter" data-testid="dead-letter">
      <summary>
        <span className="mono">{entry.certname}</span> · {entry.command} v{entry.version} · {entry.attempts} attempt{entry.attempts === 1 ? '' : 's'} ·{' '}
        <Ago at={entry.received_at} />
      </summary>
      <h3>Error</h3>
      <pre className="output stderr">{entry.error ?? ''}</pre>
      {entry.diagnostics && (
        <>
          <h3>Diagnostics</h3>
          <pre className="output">{entry.diagnostics}</pre>
        </>
      )}
      <h3>Payload</h3>
      <pre className="output" tabIndex={0}>
        {prettyPayload(entry.payload)}
      </pre>
      {canAct && (
        <p className="actions">
          <button onClick={() => void act('POST')}>Retry</button>
          <button className="danger" onClick={() => void act('DELETE')}>
            Delete
          </button>
        </p>
      )}
      {error !== null && <ErrorNote error={error} />}
    </details>
  );
}

/** The ingest queue: counts, rate, nodes with facts, and the dead letter office. */
export function IngestPage() {
  const canAct = useCan('operator');
  const { counts, rate } = useIngestStats();
  const [nodes] = useAsync(nodesWithFacts, []);
  const [discarded, reload] = useAsync((signal) => api<IngestCommandList>('GET', '/ingest/discarded?limit=500', undefined, signal), []);
  return (
    <section>
      <h1>Ingest</h1>
      <dl className="stats">
        <div>
          <dt>Queued</dt>
          <dd data-testid="ingest-queued">{counts ? (counts.queued ?? 0) + (counts.processing ?? 0) : '…'}</dd>
        </div>
        <div>
          <dt>Processed</dt>
          <dd>{counts ? (counts.done ?? 0).toLocaleString() : '…'}</dd>
        </div>
        <div>
          <dt>Rate</dt>
          <dd>{rate === null ? '…' : `${rate.toFixed(1)}/s`}</dd>
        </div>
        <div>
          <dt>Nodes with facts</dt>
          <dd>{nodes.state === 'ready' ? nodes.value : nodes.state === 'error' ? '—' : '…'}</dd>
        </div>
        <div>
          <dt>Dead letters</dt>
          <dd data-testid="ingest-discarded">{counts ? (counts.discarded ?? 0) : '…'}</dd>
        </div>
      </dl>
      <h2>Dead letter office</h2>
      {discarded.state === 'error' && <ErrorNote error={discarded.error} />}
      {discarded.state === 'ready' &&
        (discarded.value.items.length === 0 ? (
          <p className="muted">No dead letters.</p>
        ) : (
          discarded.value.items.map((d) => <DeadLetter key={d.id} entry={d} canAct={canAct} changed={reload} />)
        ))}
    </section>
  );
}
