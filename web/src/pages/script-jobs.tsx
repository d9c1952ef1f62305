import { useState } from 'react';
import { DEVICE_STATUSES, type ScriptJobSummary, type ScriptJobSummaryList } from '../../../src/api/native/index.js';
import { api } from '../api.js';
import { Ago, ErrorNote, Thead, useAsync } from '../components.js';
import { Link } from '../router.js';

/** SimpleMDM's device statuses drawn with the run state of the same colour. */
const BADGE: Record<(typeof DEVICE_STATUSES)[number], string> = {
  pending: 'pending',
  sent: 'delivered',
  running: 'running',
  completed: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
};
const STATUS_BADGE = { pending: 'running', completed: 'succeeded', failed: 'failed' } as const;

/** Jobs of saved scripts as the SimpleMDM-compatible API shows them: status and devices per status, newest first, 50 at a time. */
export function ScriptJobsPage() {
  const [older, setOlder] = useState<ScriptJobSummary[]>([]);
  const [before, setBefore] = useState<string | null>(null);
  const [page] = useAsync(
    (signal) => api<ScriptJobSummaryList>('GET', `/script-jobs?limit=50${before ? `&before=${before}` : ''}`, undefined, signal),
    [before],
  );
  const items = [...older, ...(page.state === 'ready' ? page.value.items : [])];
  return (
    <section>
      <h1>Script jobs</h1>
      <p className="muted">
        Jobs of saved scripts, as the SimpleMDM-compatible API (<code>/api/v1/script_jobs</code>) shows them.
      </p>
      {page.state === 'error' && <ErrorNote error={page.error} />}
      <table className="simple" aria-label="Script jobs">
        <Thead columns={['Id', 'Job', 'Script', 'Status', ...DEVICE_STATUSES, 'By', 'Created']} />
        <tbody>
          {items.map((j) => (
            <tr key={j.job_id} data-testid={`script-job-${j.number}`}>
              <td className="mono">{j.number}</td>
              <td>
                <Link to={`/jobs/${j.job_id}`}>{j.job_name || j.job_id}</Link>
              </td>
              <td>{j.script_name}</td>
              <td>
                <span className={`badge state-${STATUS_BADGE[j.status]}`} data-testid="status">
                  {j.status}
                </span>
              </td>
              {DEVICE_STATUSES.map((s) => (
                <td key={s} data-testid={`devices-${s}`} className={j.device_counts[s] > 0 ? `count state-${BADGE[s]}` : 'count muted'}>
                  {j.device_counts[s]}
                </td>
              ))}
              <td>{j.created_by}</td>
              <td>
                <Ago at={j.created_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {page.state === 'ready' && items.length === 0 && <p className="muted">No script jobs yet.</p>}
      {page.state === 'ready' && page.value.next_cursor && (
        <p className="actions">
          <button
            onClick={() => {
              setOlder(items);
              setBefore(page.value.next_cursor);
            }}
          >
            Older
          </button>
        </p>
      )}
    </section>
  );
}
