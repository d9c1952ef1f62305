import type { FastifyInstance } from 'fastify';
import type { Actor, Core } from '../../../core/index.js';
import { invalid } from '../../../core/errors.js';
import type { ScriptInput, ScriptRecord } from '../../../core/scripts/index.js';
import { route } from '../route.js';
import { numberedList, pageOf } from '../paging.js';
import type { Params } from '../params.js';
import { resolveOne } from '../refs.js';
import { scriptView, VARIABLE_SUPPORT } from '../views.js';

/** Shells a script's `#!` line may name, as core runs them. */
const SHEBANG_SHELLS = ['bash', 'sh', 'zsh', 'python3'];

/** Strict base64: the alphabet, padding only at the end, whole quads; whitespace (line breaks) is ignored. */
function decodeBase64(text: string, field: string): string {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw invalid(field, 'is not valid base64');
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** The script's content and the uploaded file's name: a file (`file`, `scriptfile`), base64 text, or plain text. */
function contentOf(p: Params): { content?: string; filename?: string } {
  const file = p.file('file', 'scriptfile', 'script_file');
  if (file) {
    if (file.data.length === 0) throw invalid(file.field, 'the uploaded file is empty');
    return { content: file.data.toString('utf8'), ...(file.filename ? { filename: file.filename } : {}) };
  }
  const encoded = p.text('content_base64');
  if (encoded !== undefined) return { content: decodeBase64(encoded, 'content_base64') };
  const content = p.text('content', 'file', 'scriptfile');
  if (content === undefined) return {};
  const encoding = p.text('content_encoding', 'encoding');
  if (encoding !== undefined && encoding !== 'base64' && encoding !== 'text') throw invalid('content_encoding', 'must be base64 or text');
  return { content: encoding === 'base64' ? decodeBase64(content, 'content') : content };
}

/** The shell a `#!` line names (`#!/bin/zsh`, `#!/usr/bin/env python3`), when core runs that one. */
function shebangShell(content: string): string | undefined {
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(content);
  if (!m) return undefined;
  const program = m[1]!.split('/').pop()!;
  const shell = program === 'env' ? m[2] : program;
  return shell !== undefined && SHEBANG_SHELLS.includes(shell) ? shell : undefined;
}

/** The core input of a create or update: only what the request sent. */
function scriptInput(p: Params, old: ScriptRecord | undefined): ScriptInput {
  const { content, filename } = contentOf(p);
  const name = p.text('name') ?? (old ? undefined : filename);
  const variableSupport = p.bool('variable_support', 'attributesupport', 'attribute_support');
  const runOnEnroll = p.bool('run_on_enroll');
  const shell = p.text('shell') ?? (content !== undefined ? shebangShell(content) : undefined);
  const bound = old && (old.defaultTargets.systemIds.length > 0 || old.defaultTargets.groupIds.length > 0 || old.defaultTargets.selector !== null);
  return {
    ...(name !== undefined ? { name } : {}),
    ...(content !== undefined || !old ? { content } : {}),
    ...(shell !== undefined ? { shell } : {}),
    ...(variableSupport !== undefined || !old ? { attributes: { ...old?.attributes, [VARIABLE_SUPPORT]: String(variableSupport ?? false) } } : {}),
    // Run-on-enroll covers every newly enrolled device unless the script is bound to some.
    ...(runOnEnroll !== undefined ? { run_on_enroll: runOnEnroll, ...(runOnEnroll && !bound ? { default_targets: { selector: '*' } } : {}) } : {}),
  };
}

/** A script by integer id (or muster id), as this face shows it. */
async function scriptOf(core: Core, actor: Actor, ref: string): Promise<{ script: ScriptRecord; id: number }> {
  const script = await core.scripts.get(actor, await resolveOne(core, actor, 'script', ref));
  return { script, id: await core.numbers.numberOf('script', actor.organizationId, script.id) };
}

/** `/api/v1/scripts`: upload, list, read, change and delete saved scripts (the native API's scripts). */
export function scriptRoutes(app: FastifyInstance, core: Core): void {
  route(
    app,
    'POST',
    '/scripts',
    async ({ actor, p }) => {
      const script = await core.scripts.create(actor, scriptInput(p, undefined));
      return { data: scriptView(script, await core.numbers.numberOf('script', actor.organizationId, script.id)) };
    },
    201,
  );
  route(app, 'GET', '/scripts', async ({ actor, p }) => {
    const page = pageOf(p);
    return numberedList(core, actor, 'script', page, await core.scripts.list(actor), scriptView);
  });
  route(app, 'GET', '/scripts/:id', async ({ req, actor }) => {
    const { script, id } = await scriptOf(core, actor, (req.params as { id: string }).id);
    return { data: scriptView(script, id) };
  });
  route(app, 'PATCH', '/scripts/:id', async ({ req, actor, p }) => {
    const { script: old, id } = await scriptOf(core, actor, (req.params as { id: string }).id);
    const script = await core.scripts.update(actor, old.id, scriptInput(p, old));
    return { data: scriptView(script, id) };
  });
  route(app, 'DELETE', '/scripts/:id', async ({ req, actor }) => {
    const { script } = await scriptOf(core, actor, (req.params as { id: string }).id);
    await core.scripts.remove(actor, script.id);
    return undefined;
  });
}
