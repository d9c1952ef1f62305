/** The terms a selector understands. */
export const TERM_KEYS = ['id', 'group', 'tag', 'hostname', 'name', 'ip', 'comments', 'os', 'fact'] as const;
export type TermKey = (typeof TERM_KEYS)[number];

/** A parsed selector: one tree, compiled to SQL by the store. */
export type Selector =
  | { kind: 'all' }
  | { kind: 'term'; key: Exclude<TermKey, 'fact'>; value: string }
  | { kind: 'fact'; path: string; op: '=' | '!=' | '~'; value: string }
  | { kind: 'and'; items: Selector[] }
  | { kind: 'or'; items: Selector[] }
  | { kind: 'not'; item: Selector };
