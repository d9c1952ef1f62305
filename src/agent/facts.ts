import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { AgentFacts } from '../protocol/messages.js';
import { VERSION } from '../version.js';

function osRelease(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    if (m?.[1]) return m[1].slice(0, 128);
  } catch {
    // not Linux, or no os-release: fall back to the kernel release
  }
  return os.release();
}

/** Non-internal addresses of this machine with their interface names, IPv4 first. */
function interfaces(): Array<{ name: string; address: string }> {
  const out: Array<{ name: string; address: string }> = [];
  for (const [name, list] of Object.entries(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal) out.push({ name: name.slice(0, 64), address: a.address });
  }
  return out.sort((a, b) => Number(a.address.includes(':')) - Number(b.address.includes(':'))).slice(0, 64);
}

/** The basic facts the agent reports when it enrolls and when it connects. */
export function collectFacts(): AgentFacts {
  const nics = interfaces();
  return {
    hostname: os.hostname().slice(0, 255),
    os: os.platform(),
    os_release: osRelease(),
    arch: os.arch(),
    kernel: `${os.release()} ${os.version()}`.slice(0, 256),
    cpus: os.cpus().length,
    memory_bytes: os.totalmem(),
    uptime_s: Math.round(os.uptime()),
    ip_addresses: nics.map((n) => n.address),
    interfaces: nics,
    agent_version: VERSION,
  };
}
