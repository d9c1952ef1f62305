import { useState, type FormEvent } from 'react';
import type { SecretRotated, TriggerCreated, TriggerList } from '../../../src/api/native/index.js';
import { api } from '../api.js';
import { ConfirmButton, Copy, ErrorNote, Thead, useAsync } from '../components.js';

function triggerUrl(name: string): string {
  return `${location.origin}/api/command/trigger/${encodeURIComponent(name)}`;
}

/** How to fire a trigger with curl: with an API key, or signed with the trigger's secret (docs/commands.md); `secret` fills it in. */
function curlFor(name: string, signed: boolean, secret?: string): string {
  if (!signed) return `curl -X POST -H "x-api-key: $MUSTER_API_KEY" -H 'content-type: application/json' -d '{"reason":"console"}' ${triggerUrl(name)}`;
  return [
    ...(secret ? [`SECRET='${secret}'`] : []),
    `t=$(date +%s); body='{"reason":"console"}'`,
    `sig=$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/.* //')`,
    `curl -X POST -H "X-Muster-Signature: t=$t,v1=$sig" -H 'content-type: application/json' -d "$body" ${triggerUrl(name)}`,
  ].join('\n');
}

/** A secret just made (a new trigger's or a rotated one), shown this once with the curl that uses it. */
function NewSecret({ name, secret }: { name: string; secret: string }) {
  const curl = curlFor(name, true, secret);
  return (
    <div className="notice" role="status" data-testid="new-secret">
      <p>
        The secret of <code>{name}</code>, shown once: <code data-testid="secret">{secret}</code> <Copy text={secret} label="Copy the secret" />
      </p>
      <pre className="curl" data-testid="secret-curl">
        {curl}
      </pre>
      <Copy text={curl} label={`Copy the curl command with the secret of ${name}`} />
    </div>
  );
}

/** Triggers: each one's URL and curl example; create (with a secret), rotate a secret, delete, for operators. */
export function TriggersSection({ canEdit }: { canEdit: boolean }) {
  const [triggers, reload] = useAsync((signal) => api<TriggerList>('GET', '/triggers', undefined, signal), []);
  const [newTrigger, setNewTrigger] = useState('');
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const createTrigger = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const name = newTrigger.trim();
      const created = await api<TriggerCreated>('POST', '/triggers', { name, secret: true });
      if (created.secret) setSecret({ name, secret: created.secret });
      setNewTrigger('');
      reload();
    } catch (err) {
      setError(err);
    }
  };
  const rotate = async (name: string) => {
    setSecret({ name, secret: (await api<SecretRotated>('POST', `/triggers/${encodeURIComponent(name)}/rotate-secret`)).secret });
    reload();
  };
  const remove = async (name: string) => {
    await api('DELETE', `/triggers/${encodeURIComponent(name)}`);
    if (secret?.name === name) setSecret(null);
    reload();
  };
  return (
    <>
      <h2>Triggers</h2>
      {triggers.state === 'error' && <ErrorNote error={triggers.error} />}
      <table className="simple">
        <Thead columns={['Name', 'Secret', 'URL and curl', ...(canEdit ? ['Actions'] : [])]} />
        <tbody>
          {triggers.state === 'ready' &&
            triggers.value.items.map((t) => (
              <tr key={t.id} data-testid={`trigger-${t.name}`}>
                <td className="mono">{t.name}</td>
                <td>{t.has_secret ? 'HMAC secret' : 'API key only'}</td>
                <td>
                  <code className="mono">{triggerUrl(t.name)}</code>
                  <pre className="curl">{curlFor(t.name, t.has_secret)}</pre>
                  <Copy text={curlFor(t.name, t.has_secret)} label={`Copy the curl command for ${t.name}`} />
                </td>
                {canEdit && (
                  <td>
                    <div className="actions">
                      <ConfirmButton
                        className=""
                        label="Rotate secret"
                        title={`Rotate the secret of trigger ${t.name}`}
                        question={`Give trigger ${t.name} a new secret? Callers signing with the old one are refused from now on.`}
                        confirm="Rotate"
                        onConfirm={() => rotate(t.name)}
                      />
                      <ConfirmButton
                        label="Delete"
                        title={`Delete trigger ${t.name}`}
                        question={`Delete trigger ${t.name} and its secret? Its commands keep the name and still fire with an API key.`}
                        confirm="Delete"
                        onConfirm={() => remove(t.name)}
                      />
                    </div>
                  </td>
                )}
              </tr>
            ))}
        </tbody>
      </table>
      {canEdit && (
        <form onSubmit={createTrigger} className="inline-form">
          <label htmlFor="trigger-name">New trigger</label>{' '}
          <input id="trigger-name" value={newTrigger} onChange={(e) => setNewTrigger(e.target.value)} required />{' '}
          <button type="submit">Create with a secret</button>
        </form>
      )}
      {secret && <NewSecret {...secret} />}
      {error !== null && <ErrorNote error={error} />}
    </>
  );
}
