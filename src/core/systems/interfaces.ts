import type { SystemRecord } from './store.js';

/** One of a system's addresses and the network interface it is on. */
export interface NetworkInterface {
  address: string;
  /** The interface's name as the agent reported it (`eth0`, `en0`); empty when its agent did not say. */
  name: string;
}

/**
 * A system's addresses with their interface names. Names come from the
 * `interfaces` its agent reports alongside `ip_addresses`; agents that predate
 * them leave the names empty rather than guessed.
 */
export function networkInterfaces(system: SystemRecord): NetworkInterface[] {
  const reported = system.facts.interfaces;
  const names = new Map<string, string>();
  if (Array.isArray(reported)) {
    for (const entry of reported as unknown[]) {
      const { address, name } = (entry ?? {}) as { address?: unknown; name?: unknown };
      if (typeof address === 'string' && typeof name === 'string' && !names.has(address)) names.set(address, name);
    }
  }
  return system.ipAddresses.map((address) => ({ address, name: names.get(address) ?? '' }));
}
