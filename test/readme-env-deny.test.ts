import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_DENY_LIST, type EnvRule } from '../src/lib/env-policy.js';

const README = join(import.meta.dirname, '..', 'README.md');
const START = '<!-- env-deny-list:start -->';
const END = '<!-- env-deny-list:end -->';

function pattern(rule: EnvRule): string {
  const name = rule.match === 'prefix' ? `${rule.name}*` : rule.match === 'suffix' ? `*${rule.name}` : rule.name;
  return `\`${name}\`${rule.ignoreCase ? ' (any case)' : ''}`;
}

/** The README's table of refused names: one row per reason, in the list's order. */
function denyListTable(rules: readonly EnvRule[] = ENV_DENY_LIST): string {
  const rows: Array<{ names: string[]; reason: string }> = [];
  for (const rule of rules) {
    const last = rows.at(-1);
    if (last?.reason === rule.reason) last.names.push(pattern(rule));
    else rows.push({ names: [pattern(rule)], reason: rule.reason });
  }
  const cell = (text: string) => text.replaceAll('|', '\\|');
  return ['| variables | why a caller may not set them |', '|---|---|', ...rows.map((r) => `| ${r.names.join(', ')} | ${cell(r.reason)} |`)].join('\n');
}

describe('README: the refused environment variables', () => {
  it('lists every entry of the deny list with its reason, as src/lib/env-policy.ts has them', () => {
    const text = readFileSync(README, 'utf8');
    const start = text.indexOf(START);
    const end = text.indexOf(END);
    expect(start, `README.md has no ${START} … ${END} block`).toBeGreaterThan(0);
    expect(text.slice(start + START.length, end).trim()).toBe(denyListTable());
  });
});
