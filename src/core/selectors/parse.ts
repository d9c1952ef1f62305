import { regexProblem } from '../../lib/safe-regex.js';
import { MusterError } from '../errors.js';
import { TERM_KEYS, type Selector, type TermKey } from './ast.js';

type Token = { type: 'lparen' | 'rparen' | 'star' | 'and' | 'or' | 'not' | 'end'; pos: number } | { type: 'term'; pos: number; key: string; value: string };

const MAX_LENGTH = 4096;
const MAX_DEPTH = 64;

function fail(pos: number, message: string): never {
  throw new MusterError('INVALID_ARGUMENT', `selector: ${message} at position ${pos + 1}`, { field: 'selector' });
}

/** Reads a value: a "quoted string" (with \" and \\ escapes) or a run of characters up to space or parenthesis. */
function readValue(text: string, start: number): { value: string; end: number } {
  if (text[start] === '"') {
    let value = '';
    let i = start + 1;
    for (; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === '\\' && i + 1 < text.length) i++;
      value += text[i];
    }
    if (i >= text.length) fail(start, 'unterminated quoted value');
    return { value, end: i + 1 };
  }
  let i = start;
  while (i < text.length && !/[\s()]/.test(text[i]!)) i++;
  return { value: text.slice(start, i), end: i };
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '(') tokens.push({ type: 'lparen', pos: i++ });
    else if (c === ')') tokens.push({ type: 'rparen', pos: i++ });
    else if (c === '*') tokens.push({ type: 'star', pos: i++ });
    else {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0];
      if (!word) fail(i, `unexpected character ${JSON.stringify(c)}`);
      const pos = i;
      i += word.length;
      if (text[i] === ':') {
        const { value, end } = readValue(text, i + 1);
        tokens.push({ type: 'term', pos, key: word.toLowerCase(), value });
        i = end;
      } else if (/^(and|or|not)$/i.test(word)) {
        tokens.push({ type: word.toLowerCase() as 'and' | 'or' | 'not', pos });
      } else {
        fail(pos, `expected a term like tag:web, found ${JSON.stringify(word)}`);
      }
    }
  }
  tokens.push({ type: 'end', pos: text.length });
  return tokens;
}

/** A fact regex runs in RE2 (linear time) and means the same on both databases (src/lib/safe-regex.ts). */
function checkRegex(pos: number, pattern: string): void {
  const problem = regexProblem(pattern);
  if (problem) fail(pos, problem);
}

function termOf(token: Extract<Token, { type: 'term' }>): Selector {
  if (!(TERM_KEYS as readonly string[]).includes(token.key)) fail(token.pos, `unknown term ${token.key}: (known: ${TERM_KEYS.join(', ')})`);
  if (token.key === 'fact') {
    const m = /^([^=!~]+)(!=|=|~)(.*)$/s.exec(token.value);
    if (!m) fail(token.pos, 'a fact term reads fact:PATH=VALUE, fact:PATH!=VALUE or fact:PATH~REGEX');
    const path = m[1]!.trim();
    if (path.split('.').some((part) => part === '')) fail(token.pos, `fact path ${JSON.stringify(path)} has an empty part`);
    if (m[2] === '~') checkRegex(token.pos, m[3]!);
    return { kind: 'fact', path, op: m[2] as '=' | '!=' | '~', value: m[3]! };
  }
  if (token.value === '') fail(token.pos, `${token.key}: needs a value`);
  return { kind: 'term', key: token.key as Exclude<TermKey, 'fact'>, value: token.value };
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Selector {
    const expr = this.or(0);
    const next = this.peek();
    if (next.type !== 'end') fail(next.pos, next.type === 'rparen' ? 'unbalanced ")"' : 'expected "and" or "or"');
    return expr;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private or(depth: number): Selector {
    const items = [this.and(depth)];
    while (this.peek().type === 'or') {
      this.i++;
      items.push(this.and(depth));
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  private and(depth: number): Selector {
    const items = [this.unary(depth)];
    while (this.peek().type === 'and') {
      this.i++;
      items.push(this.unary(depth));
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private unary(depth: number): Selector {
    const token = this.peek();
    if (depth > MAX_DEPTH) fail(token.pos, 'nested too deeply');
    this.i++;
    switch (token.type) {
      case 'not':
        return { kind: 'not', item: this.unary(depth + 1) };
      case 'star':
        return { kind: 'all' };
      case 'term':
        return termOf(token);
      case 'lparen': {
        const inner = this.or(depth + 1);
        const close = this.peek();
        if (close.type !== 'rparen') fail(close.pos, 'expected ")"');
        this.i++;
        return inner;
      }
      case 'end':
        return fail(token.pos, 'expected a term, "not", "(" or "*" but the selector ended');
      default:
        return fail(token.pos, `expected a term, "not", "(" or "*", found "${token.type === 'rparen' ? ')' : token.type}"`);
    }
  }
}

/**
 * Parses a selector such as `tag:web and not hostname:canary`. Errors are
 * INVALID_ARGUMENT naming the 1-based position of the problem.
 */
export function parseSelector(text: unknown): Selector {
  if (typeof text !== 'string' || text.trim() === '') throw new MusterError('INVALID_ARGUMENT', 'selector: must be a non-empty string', { field: 'selector' });
  if (text.length > MAX_LENGTH) throw new MusterError('INVALID_ARGUMENT', `selector: must be at most ${MAX_LENGTH} characters`, { field: 'selector' });
  return new Parser(tokenize(text)).parse();
}
