import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { launcherNodeFlags } from './launcher.js';

describe('launcherNodeFlags', () => {
  it("reads the flags of muster's own executable: the old- and young-generation caps", () => {
    const bin = fileURLToPath(new URL('../../bin/muster.js', import.meta.url));
    expect(launcherNodeFlags(bin)).toEqual(['--max-old-space-size=1024', '--max-semi-space-size=4']);
  });

  it('gives none for a plain `env node` line or a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'muster-launcher-'));
    writeFileSync(join(dir, 'plain.js'), '#!/usr/bin/env node\n');
    writeFileSync(join(dir, 'flags.js'), '#!/usr/bin/env -S node --a=1  --b\n');
    expect(launcherNodeFlags(join(dir, 'plain.js'))).toEqual([]);
    expect(launcherNodeFlags(join(dir, 'flags.js'))).toEqual(['--a=1', '--b']);
    expect(launcherNodeFlags(join(dir, 'missing.js'))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});
