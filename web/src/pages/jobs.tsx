import type { JobList } from '../../../src/api/native/index.js';
import { api } from '../api.js';
import { Ago, ErrorNote, StateBadge, Thead, useAsync } from '../components.js';
import { Link } from '../router.js';

/** The latest jobs, newest first. */
export function JobsPage() {
  const [jobs] = useAsync((signal) => api<JobList>('GET', '/jobs?limit=100', undefined, signal), []);
  if (jobs.state === 'loading') return <p className="loading">Loading…</p>;
  if (jobs.state === 'error') return <ErrorNote error={jobs.error} />;
  return (
    <section>
      <h1>Jobs</h1>
      <table className="simple">
        <Thead columns={['Job', 'Status', 'Systems', 'Source', 'By', 'Created']} />
        <tbody>
          {jobs.value.items.map((j) => (
            <tr key={j.id}>
              <td>
                <Link to={`/jobs/${j.id}`} className="mono">
                  {firstLine(j.content)}
                </Link>
              </td>
              <td>
                <StateBadge state={j.status} />
              </td>
              <td>{j.total}</td>
              <td>{j.source}</td>
              <td>{j.created_by}</td>
              <td>
                <Ago at={j.created_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function firstLine(content: string): string {
  const line = content.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#!')) ?? content;
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}
