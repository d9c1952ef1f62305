import { readFileSync } from 'node:fs';

/**
 * The Node flags muster's executable runs with, read from its `#!/usr/bin/env
 * -S node …` line, so that anything starting bin/muster.js with `node`
 * explicitly (`muster start`'s children, the benchmarks) runs it as the
 * shebang does. Empty when the file has no such line.
 */
export function launcherNodeFlags(bin: string): string[] {
  let first: string;
  try {
    first = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  } catch {
    return [];
  }
  const m = /^#!\s*\/usr\/bin\/env\s+-S\s+node\s+(.*)$/.exec(first);
  return m
    ? m[1]!
        .trim()
        .split(/\s+/)
        .filter((f) => f.startsWith('--'))
    : [];
}
