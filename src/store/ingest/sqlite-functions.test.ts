import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { jsonPathOf } from './sqlite-functions.js';

describe('jsonPathOf', () => {
  it('reads every path json_tree writes back into the keys and positions it came from', () => {
    const doc = { a: { 'b.c': [{ 'd"e': 1, 'f\\g': [true] }], 'sp ace': 2, _x: 3, X9: 4, '9x': 5, é: 6, '': 7, '[1]': 8 } };
    const db = new Database(':memory:');
    const leaves = db.prepare("select fullkey from json_tree(?) where type not in ('object', 'array')").all(JSON.stringify(doc)) as Array<{ fullkey: string }>;
    db.close();
    expect(leaves.map((l) => JSON.parse(jsonPathOf(l.fullkey)))).toEqual([
      ['a', 'b.c', 0, 'd"e'],
      ['a', 'b.c', 0, 'f\\g', 0],
      ['a', 'sp ace'],
      ['a', '_x'],
      ['a', 'X9'],
      ['a', '9x'],
      ['a', 'é'],
      ['a', ''],
      ['a', '[1]'],
    ]);
  });
});
