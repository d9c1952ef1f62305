import type { Selector } from '../selectors/index.js';
import type { AgentFactsInput } from './index.js';

export interface SystemRecord {
  id: string;
  organizationId: string;
  hostname: string;
  displayName: string;
  os: string;
  osRelease: string;
  arch: string;
  kernel: string;
  agentVersion: string;
  ipAddresses: string[];
  publicIp: string | null;
  tags: string[];
  facts: Record<string, unknown>;
  /** Free text about the system (JumpCloud's description, BeyondTrust's comments). */
  description: string;
  publicKey: string;
  connected: boolean;
  createdAt: string;
  lastContact: string | null;
}

/** Storage of systems (managed machines). */
export interface SystemStore {
  insertSystem(system: SystemRecord): Promise<void>;
  getSystem(organizationId: string, id: string): Promise<SystemRecord | undefined>;
  /** Unscoped: only for authenticating a system by its own signature. */
  findSystemForAuth(id: string): Promise<{ organizationId: string; publicKey: string } | undefined>;
  listSystems(organizationId: string, selector?: Selector): Promise<SystemRecord[]>;
  /** Ids of the organization's systems a selector matches (evaluated in the database). */
  selectSystemIds(organizationId: string, selector: Selector): Promise<string[]>;
  /** The subset of `ids` that exist in the organization. */
  existingSystemIds(organizationId: string, ids: string[]): Promise<string[]>;
  allSystemIds(organizationId: string): Promise<string[]>;
  hostnames(ids: string[]): Promise<Map<string, string>>;
  recordConnect(id: string, facts: AgentFactsInput, publicIp: string | null, at: string): Promise<void>;
  recordDisconnect(id: string, at: string): Promise<void>;
  /** Marks these systems as seen now (one statement for a batch). */
  touchSystems(ids: string[], at: string): Promise<void>;
  /** At start of a single-node server: nobody is connected yet. */
  clearConnections(): Promise<void>;
}
