/** Where a saved script runs when a launch names no targets of its own. */
export interface ScriptTargets {
  systemIds: string[];
  groupIds: string[];
  /** Selector text; its grammar is checked where it is resolved, at launch. */
  selector: string | null;
}

/** A saved script: content and run settings, reusable by name or id. */
export interface ScriptRecord {
  id: string;
  organizationId: string;
  name: string;
  content: string;
  shell: string;
  runAs: string | null;
  timeoutS: number;
  ttlS: number;
  defaultTargets: ScriptTargets;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
}

/** Storage of saved scripts. Names are unique per organization. */
export interface ScriptStore {
  /** False when the organization already has a script of that name. */
  insertScript(script: ScriptRecord): Promise<boolean>;
  listScripts(organizationId: string): Promise<ScriptRecord[]>;
  getScript(organizationId: string, id: string): Promise<ScriptRecord | undefined>;
  findScriptByName(organizationId: string, name: string): Promise<ScriptRecord | undefined>;
  /** Replaces every mutable column; `name_taken` when another script of the organization has the new name. */
  updateScript(script: ScriptRecord): Promise<'updated' | 'not_found' | 'name_taken'>;
  /** False when no script with that id is in the organization. */
  deleteScript(organizationId: string, id: string): Promise<boolean>;
}
