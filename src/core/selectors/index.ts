export type { Selector, TermKey } from './ast.js';
export { TERM_KEYS } from './ast.js';
export { parseSelector } from './parse.js';
