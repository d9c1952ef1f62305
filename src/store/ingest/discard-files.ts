import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { COMMANDS, type DiscardWriter } from '../../core/ingest/index.js';

/** A certname made safe as part of a file name. */
function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
}

/**
 * Writes dead letters as PuppetDB keeps them: under
 * `<dir>/discarded/<command>/`, the payload as
 * `<id>-<received ms>_<kind>_<version>_<certname>.json` and the error beside it
 * as `…_err.txt`.
 */
export function discardFiles(mqDir: string): DiscardWriter {
  return {
    async write(command, error, diagnostics) {
      const dir = join(mqDir, 'discarded', command.command.replaceAll(' ', '-'));
      // Dead letters hold whole payloads (facts, catalogs): readable by the server's user only.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const base = `${command.id}-${Date.parse(command.receivedAt)}_${COMMANDS[command.command].kind}_${command.version}_${safe(command.certname)}`;
      await writeFile(join(dir, `${base}.json`), command.payload ?? '', { mode: 0o600 });
      await writeFile(join(dir, `${base}_err.txt`), `${diagnostics}\n\n${error}\n`, { mode: 0o600 });
    },
  };
}
