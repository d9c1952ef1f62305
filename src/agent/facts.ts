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

/** Non-internal addresses of this machine, IPv4 first. */
function ipAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal) out.push(a.address);
  }
  return out.sort((a, b) => Number(a.includes(':')) - Number(b.includes(':'))).slice(0, 64);
}

/** The basic facts the agent reports when it enrolls and when it connects. */
export function collectFacts(): AgentFacts {
  return {
    hostname: os.hostname().slice(0, 255),
    os: os.platform(),
    os_release: osRelease(),
    arch: os.arch(),
    kernel: `${os.release()} ${os.version()}`.slice(0, 256),
    cpus: os.cpus().length,
    memory_bytes: os.totalmem(),
    uptime_s: Math.round(os.uptime()),
    ip_addresses: ipAddresses(),
    agent_version: VERSION,
  };
}
