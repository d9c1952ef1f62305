import { MusterError } from '../errors.js';

/**
 * PuppetDB's query language (PQL), the subset muster answers, translated to
 * the AST: `entity[fields] { filter modifiers }` with `=`, `!=`, `~`, `!~`,
 * `<`, `<=`, `>`, `>=`, `in [list]`, `is null`, `is not null`, `and`, `or`,
 * `!`/`not` and parentheses; string (double quoted with JSON escapes, or single
 * quoted and raw), number, boolean and list literals; `count()` in the
 * projection; `group by`, `order by`, `limit` and `offset`. Subqueries and
 * `~>` are refused with a 400 naming them.
 */

type Token = { kind: 'word' | 'string' | 'number' | 'punct'; text: string; value?: unknown; at: number };

// Nesting beyond this is refused while parsing (the AST parser has the same bound).
const MAX_NESTING = 64;

function fail(at: number, message: string): never {
  throw new MusterError('INVALID_ARGUMENT', `PQL parse error at column ${at + 1}: ${message}`);
}

const PUNCT = ['!=', '!~', '<=', '>=', '~>', '=', '~', '<', '>', '!', '(', ')', '[', ']', '{', '}', ','];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      const m = /^"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/.exec(src.slice(i));
      if (!m) fail(i, 'unterminated or badly escaped double-quoted string');
      out.push({ kind: 'string', text: m[0], value: JSON.parse(m[0]), at: i });
      i += m[0].length;
      continue;
    }
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) fail(i, 'unterminated single-quoted string');
      out.push({ kind: 'string', text: src.slice(i, end + 1), value: src.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const num = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])/.exec(src.slice(i));
    if (num) {
      out.push({ kind: 'number', text: num[0], value: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    // Field names: letters, digits, _, ?, dots, [index] and quoted segments (facts.os.family, latest_report?, facts.disks."sd.a").
    const word = /^[A-Za-z_][\w?]*(?:(?:\.(?:[A-Za-z_\d][\w?-]*|"[^"]*"))|\[\d+\])*/.exec(src.slice(i));
    if (word) {
      out.push({ kind: 'word', text: word[0], at: i });
      i += word[0].length;
      continue;
    }
    const p = PUNCT.find((x) => src.startsWith(x, i));
    if (!p) fail(i, `unexpected character ${JSON.stringify(c)}`);
    out.push({ kind: 'punct', text: p, at: i });
    i += p.length;
  }
  return out;
}

const OPS = new Set(['=', '!=', '~', '!~', '<', '<=', '>', '>=']);
const MODIFIERS = new Set(['limit', 'offset', 'order', 'group']);

class PqlParser {
  private i = 0;
  constructor(
    private readonly t: Token[],
    private readonly end: number,
  ) {}

  private peek(): Token | undefined {
    return this.t[this.i];
  }
  private at(): number {
    return this.peek()?.at ?? this.end;
  }
  private isWord(text: string): boolean {
    const k = this.peek();
    return k?.kind === 'word' && k.text.toLowerCase() === text;
  }
  private isPunct(text: string): boolean {
    const k = this.peek();
    return k?.kind === 'punct' && k.text === text;
  }
  private expect(text: string): void {
    if (!this.isPunct(text) && !this.isWord(text)) fail(this.at(), `expected '${text}'${this.peek() ? `, found '${this.peek()!.text}'` : ' at the end'}`);
    this.i++;
  }
  private word(what: string): string {
    const k = this.peek();
    if (k?.kind !== 'word') fail(this.at(), `expected ${what}`);
    this.i++;
    return k.text;
  }

  query(): unknown[] {
    const entity = this.word('an entity (nodes, facts, …)');
    const fields: unknown[] = [];
    let count = false;
    if (this.isPunct('[')) {
      this.i++;
      while (!this.isPunct(']')) {
        const name = this.word('a field or count()');
        if (this.isPunct('(')) {
          this.i++;
          if (name !== 'count') fail(this.at(), `unsupported function ${name}() (only count())`);
          if (!this.isPunct(')')) fail(this.at(), 'count() takes no argument here');
          this.i++;
          count = true;
        } else fields.push(name);
        if (!this.isPunct(']')) this.expect(',');
      }
      this.i++;
    }
    this.expect('{');
    let filter: unknown;
    if (!this.isPunct('}') && !MODIFIERS.has(this.peek()?.text.toLowerCase() ?? '')) filter = this.or(0);
    const mods = this.modifiers();
    this.expect('}');
    if (this.peek()) fail(this.at(), `unexpected '${this.peek()!.text}' after the query`);
    const ast: unknown[] = ['from', entity];
    if (fields.length > 0 || count) {
      const extract: unknown[] = ['extract', [...(count ? [['function', 'count']] : []), ...fields]];
      if (filter !== undefined) extract.push(filter);
      if (mods.groupBy) extract.push(['group_by', ...mods.groupBy]);
      ast.push(extract);
    } else {
      if (mods.groupBy) fail(this.end, 'group by needs a projection ([fields, count()])');
      if (filter !== undefined) ast.push(filter);
    }
    if (mods.orderBy) ast.push(['order_by', mods.orderBy]);
    if (mods.limit !== undefined) ast.push(['limit', mods.limit]);
    if (mods.offset !== undefined) ast.push(['offset', mods.offset]);
    return ast;
  }

  private integer(): number {
    const k = this.peek();
    if (k?.kind !== 'number' || !Number.isSafeInteger(k.value) || (k.value as number) < 0) fail(this.at(), 'expected a non-negative integer');
    this.i++;
    return k.value as number;
  }

  private modifiers(): { limit?: number; offset?: number; orderBy?: unknown[]; groupBy?: string[] } {
    const m: { limit?: number; offset?: number; orderBy?: unknown[]; groupBy?: string[] } = {};
    for (;;) {
      if (this.isWord('limit')) {
        this.i++;
        m.limit = this.integer();
      } else if (this.isWord('offset')) {
        this.i++;
        m.offset = this.integer();
      } else if (this.isWord('order')) {
        this.i++;
        this.expect('by');
        m.orderBy = [];
        do {
          if (m.orderBy.length > 0) this.i++;
          const field = this.word('a field to order by');
          if (this.isWord('asc') || this.isWord('desc')) m.orderBy.push([field, this.word('asc or desc').toLowerCase()]);
          else m.orderBy.push(field);
        } while (this.isPunct(','));
      } else if (this.isWord('group')) {
        this.i++;
        this.expect('by');
        m.groupBy = [this.word('a field to group by')];
        while (this.isPunct(',')) {
          this.i++;
          m.groupBy.push(this.word('a field to group by'));
        }
      } else return m;
    }
  }

  private or(depth: number): unknown {
    const items = [this.and(depth)];
    while (this.isWord('or')) {
      this.i++;
      items.push(this.and(depth));
    }
    return items.length === 1 ? items[0] : ['or', ...items];
  }

  private and(depth: number): unknown {
    const items = [this.not(depth)];
    while (this.isWord('and')) {
      this.i++;
      items.push(this.not(depth));
    }
    return items.length === 1 ? items[0] : ['and', ...items];
  }

  private not(depth: number): unknown {
    if (depth >= MAX_NESTING) fail(this.at(), `nested more than ${MAX_NESTING} levels (muster's limit for one query)`);
    if (this.isPunct('!') || this.isWord('not')) {
      this.i++;
      return ['not', this.not(depth + 1)];
    }
    if (this.isPunct('(')) {
      this.i++;
      const inner = this.or(depth + 1);
      this.expect(')');
      return inner;
    }
    return this.condition();
  }

  private literal(): unknown {
    const k = this.peek();
    if (k?.kind === 'string' || k?.kind === 'number') {
      this.i++;
      return k.value;
    }
    if (this.isWord('true') || this.isWord('false')) {
      this.i++;
      return k!.text.toLowerCase() === 'true';
    }
    return fail(this.at(), `expected a string, number or boolean${k ? `, found '${k.text}'` : ''}`);
  }

  private condition(): unknown {
    const start = this.at();
    const field = this.word('a field, "(" or "!"');
    if (this.isPunct('{') || this.isPunct('[')) fail(start, `subqueries (${field} { … }) are not supported`);
    if (this.isWord('is')) {
      this.i++;
      const negated = this.isWord('not');
      if (negated) this.i++;
      this.expect('null');
      return ['null?', field, !negated];
    }
    if (this.isWord('in')) {
      this.i++;
      if (!this.isPunct('[')) fail(this.at(), 'in takes a list of literals here ([…]); subqueries are not supported');
      this.i++;
      const values: unknown[] = [];
      while (!this.isPunct(']')) {
        values.push(this.literal());
        if (!this.isPunct(']')) this.expect(',');
      }
      this.i++;
      return ['in', field, ['array', values]];
    }
    const op = this.peek();
    if (op?.kind !== 'punct' || !OPS.has(op.text)) {
      if (op?.text === '~>') fail(op.at, 'the ~> operator is not supported');
      fail(this.at(), `expected an operator (=, !=, ~, !~, <, <=, >, >=, in, is null) after ${field}`);
    }
    this.i++;
    const value = this.literal();
    if (op.text === '!=') return ['not', ['=', field, value]];
    if (op.text === '!~') return ['not', ['~', field, value]];
    return [op.text, field, value];
  }
}

/** Translates a PQL query to PuppetDB's AST (`["from", entity, …]`); INVALID_ARGUMENT naming the column for what it cannot read. */
export function parsePql(source: string): unknown[] {
  return new PqlParser(tokenize(source), source.length).query();
}
