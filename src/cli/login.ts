import type { Command } from 'commander';
import { cliEnv, saveCliConfig } from '../config/cli.js';
import type { Whoami } from '../api/native/index.js';
import { ApiClient, usageError } from './client.js';
import { action, configFor, connectionOptions } from './context.js';
import { out } from './output.js';
import { readSecret } from './prompt.js';

/**
 * `muster login`: checks a key against /v1/whoami, then saves the server and
 * key (file 0600). The key comes from --api-key or MUSTER_API_KEY, else it is
 * asked for on the terminal without echo; a saved key is never reused here.
 */
export function registerLogin(program: Command): void {
  connectionOptions(program.command('login'))
    .description('check an API key and save it with the server URL for later commands (file mode 0600)')
    .action(
      action(async (_opts: unknown, command: Command) => {
        const config = configFor(command, { savedKey: false });
        let key = config.api_key;
        if (!key && process.stdin.isTTY) key = (await readSecret(`API key for ${config.server}: `)).trim();
        if (!key) throw usageError('no API key given: use --api-key, set MUSTER_API_KEY, or run `muster login` on a terminal');
        const who = await new ApiClient(config.server, key).request<Whoami>('GET', '/v1/whoami');
        const path = saveCliConfig({ server: config.server, api_key: key }, cliEnv());
        out(`logged in to ${config.server} as ${who.role} of ${who.organization_name} (key ${who.key_id}); saved to ${path}`);
      }),
    );
}
