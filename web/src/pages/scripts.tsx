import { useState, type FormEvent } from 'react';
import {
  LAUNCH_TYPES,
  SHELLS,
  type Command,
  type CommandList,
  type CreateCommandBody,
  type Script,
  type ScriptList,
  type Shell,
} from '../../../src/api/native/index.js';
import { api } from '../api.js';
import { ConfirmButton, ErrorNote, Thead, useAsync } from '../components.js';
import { CodeEditor } from '../editor.js';
import { useCan } from '../session.js';
import { TriggersSection } from './triggers.js';

type Editing = { kind: 'script' | 'command'; item: Script | Command | null };

/** The fields both editors share, from an item or blank. */
function draft(item: Script | Command | null) {
  const c = item && 'launch_type' in item ? item : null;
  return {
    name: item?.name ?? '',
    shell: (item?.shell ?? 'sh') as Shell,
    content: item?.content ?? '#!/bin/sh\n',
    timeout_s: String(item?.timeout_s ?? 120),
    ttl_s: String(item?.ttl_s ?? 3600),
    selector: item?.default_targets.selector ?? '',
    launch_type: c?.launch_type ?? 'manual',
    trigger: c?.trigger ?? '',
    schedule: c?.schedule ?? '',
    timezone: c?.timezone ?? '',
  };
}

function Editor({ editing, done }: { editing: Editing; done: () => void }) {
  const [f, setF] = useState(() => draft(editing.item));
  const [error, setError] = useState<unknown>(null);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF((x) => ({ ...x, [k]: e.target.value }));
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const base = {
      name: f.name,
      shell: f.shell,
      content: f.content,
      timeout_s: Number(f.timeout_s),
      ttl_s: Number(f.ttl_s),
      default_targets: { selector: f.selector.trim() === '' ? null : f.selector.trim() },
    };
    const body: CreateCommandBody | typeof base =
      editing.kind === 'command'
        ? {
            ...base,
            launch_type: f.launch_type,
            trigger: f.trigger.trim() || null,
            schedule: f.schedule.trim() || null,
            timezone: f.timezone.trim() || null,
          }
        : base;
    const path = editing.kind === 'script' ? '/scripts' : '/commands';
    try {
      if (editing.item) await api('PATCH', `${path}/${editing.item.id}`, body);
      else await api('POST', path, body);
      done();
    } catch (err) {
      setError(err);
    }
  };
  const p = editing.kind;
  return (
    <form className="editor-form" onSubmit={save} aria-label={`${editing.item ? 'Edit' : 'New'} ${p}`}>
      <h2>
        {editing.item ? 'Edit' : 'New'} {p}
      </h2>
      <div className="grid4">
        <div className="field">
          <label htmlFor={`${p}-name`}>Name</label>
          <input id={`${p}-name`} value={f.name} onChange={set('name')} required />
        </div>
        <div className="field">
          <label htmlFor={`${p}-shell`}>Shell</label>
          <select id={`${p}-shell`} value={f.shell} onChange={set('shell')}>
            {SHELLS.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${p}-timeout`}>Timeout (s)</label>
          <input id={`${p}-timeout`} type="number" min={1} value={f.timeout_s} onChange={set('timeout_s')} />
        </div>
        <div className="field">
          <label htmlFor={`${p}-ttl`}>TTL (s)</label>
          <input id={`${p}-ttl`} type="number" min={1} value={f.ttl_s} onChange={set('ttl_s')} />
        </div>
      </div>
      <CodeEditor id={`${p}-content`} label="Content" value={f.content} onChange={(content) => setF((x) => ({ ...x, content }))} />
      <div className="field">
        <label htmlFor={`${p}-selector`}>Default targets (selector)</label>
        <input id={`${p}-selector`} value={f.selector} onChange={set('selector')} />
      </div>
      {p === 'command' && (
        <div className="grid4">
          <div className="field">
            <label htmlFor="command-launch">Launch</label>
            <select id="command-launch" value={f.launch_type} onChange={set('launch_type')}>
              {LAUNCH_TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="command-trigger">Trigger name</label>
            <input id="command-trigger" value={f.trigger} onChange={set('trigger')} />
          </div>
          <div className="field">
            <label htmlFor="command-schedule">Schedule (cron)</label>
            <input id="command-schedule" placeholder="*/5 * * * *" value={f.schedule} onChange={set('schedule')} />
          </div>
          <div className="field">
            <label htmlFor="command-tz">Time zone</label>
            <input id="command-tz" placeholder="UTC" value={f.timezone} onChange={set('timezone')} />
          </div>
        </div>
      )}
      {error !== null && <ErrorNote error={error} />}
      <p className="actions">
        <button type="submit">Save</button>
        <button type="button" onClick={done}>
          Cancel
        </button>
      </p>
    </form>
  );
}

/** Saved scripts, commands (with schedules and triggers) and triggers. */
export function ScriptsPage() {
  const canEdit = useCan('operator');
  const [scripts, reloadScripts] = useAsync((signal) => api<ScriptList>('GET', '/scripts', undefined, signal), []);
  const [commands, reloadCommands] = useAsync((signal) => api<CommandList>('GET', '/commands', undefined, signal), []);
  const [editing, setEditing] = useState<Editing | null>(null);
  // Every saved script is also a command (GET /v1/commands lists them all): the commands table shows those that launch by themselves or hold command settings.
  const launched = new Set(
    commands.state === 'ready'
      ? commands.value.items.filter((c) => c.launch_type !== 'manual' || c.trigger !== null || c.schedule !== null).map((c) => c.id)
      : [],
  );
  const remove = (kind: 'scripts' | 'commands', id: string, reload: () => void) => async () => {
    await api('DELETE', `/${kind}/${id}`);
    reload();
  };
  if (editing)
    return (
      <section>
        <Editor
          editing={editing}
          done={() => {
            setEditing(null);
            reloadScripts();
            reloadCommands();
          }}
        />
      </section>
    );
  return (
    <section>
      <h1>Scripts</h1>
      {canEdit && (
        <p className="actions">
          <button onClick={() => setEditing({ kind: 'script', item: null })}>New script</button>
        </p>
      )}
      {scripts.state === 'error' && <ErrorNote error={scripts.error} />}
      <table className="simple">
        <Thead columns={['Name', 'Shell', 'Timeout', 'Default targets', 'Updated', ...(canEdit ? ['Actions'] : [])]} />
        <tbody>
          {scripts.state === 'ready' &&
            scripts.value.items
              .filter((s) => !launched.has(s.id))
              .map((s) => (
                <tr key={s.id}>
                  <td>
                    {canEdit ? (
                      <button className="link" onClick={() => setEditing({ kind: 'script', item: s })}>
                        {s.name}
                      </button>
                    ) : (
                      s.name
                    )}
                  </td>
                  <td>{s.shell}</td>
                  <td>{s.timeout_s} s</td>
                  <td className="mono">{s.default_targets.selector ?? ''}</td>
                  <td>{s.updated_at}</td>
                  {canEdit && (
                    <td>
                      <ConfirmButton
                        label="Delete"
                        title={`Delete script ${s.name}`}
                        question={`Delete script ${s.name}? Jobs already run from it keep their copy of its content.`}
                        confirm="Delete"
                        onConfirm={remove('scripts', s.id, reloadScripts)}
                      />
                    </td>
                  )}
                </tr>
              ))}
        </tbody>
      </table>
      <h2>Commands</h2>
      {canEdit && (
        <p className="actions">
          <button onClick={() => setEditing({ kind: 'command', item: null })}>New command</button>
        </p>
      )}
      <table className="simple">
        <Thead columns={['Name', 'Launch', 'Schedule', 'Next fire', 'Trigger', ...(canEdit ? ['Actions'] : [])]} />
        <tbody>
          {commands.state === 'ready' &&
            commands.value.items
              .filter((c) => launched.has(c.id))
              .map((c) => (
                <tr key={c.id}>
                  <td>
                    {canEdit ? (
                      <button className="link" onClick={() => setEditing({ kind: 'command', item: c })}>
                        {c.name}
                      </button>
                    ) : (
                      c.name
                    )}
                  </td>
                  <td>{c.launch_type}</td>
                  <td className="mono">{c.schedule ? `${c.schedule}${c.timezone ? ` (${c.timezone})` : ''}` : (c.run_at ?? '')}</td>
                  <td>{c.next_fire_at ?? '—'}</td>
                  <td className="mono">{c.trigger ?? ''}</td>
                  {canEdit && (
                    <td>
                      <ConfirmButton
                        label="Delete"
                        title={`Delete command ${c.name}`}
                        question={`Delete command ${c.name}? Its schedule and trigger stop launching it.`}
                        confirm="Delete"
                        onConfirm={remove('commands', c.id, reloadCommands)}
                      />
                    </td>
                  )}
                </tr>
              ))}
        </tbody>
      </table>
      <TriggersSection canEdit={canEdit} />
    </section>
  );
}
