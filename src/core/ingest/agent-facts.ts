import type { AgentFactsInput } from '../systems/index.js';

/** The producer name on facts that muster's own agent reports. */
export const AGENT_FACTS_PRODUCER = 'muster-agent';

/**
 * An agent's basic facts in Facter's structured names, so that
 * `fact:os.name=Debian` or `fact:processors.count=8` mean the same whether a
 * system's facts came from its muster agent or from Puppet.
 */
export function agentFactValues(f: AgentFactsInput): Record<string, unknown> {
  // The agent sends Node's platform (`linux`) and /etc/os-release's PRETTY_NAME ("Debian GNU/Linux 12 (bookworm)").
  const version = /\d+(\.\d+)*/.exec(f.os_release)?.[0] ?? f.os_release;
  return {
    hostname: f.hostname,
    kernel: KERNELS[f.os] ?? f.os,
    kernelrelease: (f.kernel ?? '').split(' ')[0] ?? '',
    os: {
      name: f.os_release.split(/\s/)[0] || f.os,
      release: { full: version, major: version.split('.')[0] ?? version },
      architecture: f.arch,
      distro: { description: f.os_release },
    },
    ...(f.cpus !== undefined ? { processors: { count: f.cpus } } : {}),
    ...(f.memory_bytes !== undefined ? { memory: { system: { total_bytes: f.memory_bytes } } } : {}),
    ...(f.uptime_s !== undefined ? { system_uptime: { seconds: f.uptime_s } } : {}),
    networking: { ip: f.ip_addresses[0] ?? null, addresses: f.ip_addresses },
    muster_agent_version: f.agent_version,
  };
}

const KERNELS: Record<string, string> = { linux: 'Linux', darwin: 'Darwin', win32: 'windows', freebsd: 'FreeBSD' };
