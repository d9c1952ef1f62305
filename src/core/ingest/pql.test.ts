import { describe, expect, it } from 'vitest';
import { parsePql } from './pql.js';

describe('PQL to AST', () => {
  it("translates PuppetDB's documented forms", () => {
    expect(parsePql('nodes { certname = "macbook-pro.local" }')).toEqual(['from', 'nodes', ['=', 'certname', 'macbook-pro.local']]);
    expect(parsePql('nodes[certname] { certname ~ "^web" }')).toEqual(['from', 'nodes', ['extract', ['certname'], ['~', 'certname', '^web']]]);
    expect(parsePql('facts[name, count()] { group by name }')).toEqual(['from', 'facts', ['extract', [['function', 'count'], 'name'], ['group_by', 'name']]]);
    expect(parsePql("entity { !(field1 = 'mystring' and field2 < 3) or field3 = 'mars' }")).toEqual([
      'from',
      'entity',
      ['or', ['not', ['and', ['=', 'field1', 'mystring'], ['<', 'field2', 3]]], ['=', 'field3', 'mars']],
    ]);
    expect(parsePql('nodes { certname in ["foo", "bar"] and deactivated is not null }')).toEqual([
      'from',
      'nodes',
      ['and', ['in', 'certname', ['array', ['foo', 'bar']]], ['null?', 'deactivated', false]],
    ]);
    expect(parsePql('reports {certname ~ "web.*" order by receive_time desc, certname limit 10 offset 5}')).toEqual([
      'from',
      'reports',
      ['~', 'certname', 'web.*'],
      ['order_by', [['receive_time', 'desc'], 'certname']],
      ['limit', 10],
      ['offset', 5],
    ]);
    expect(parsePql('facts { value = "first line\\nsecond" and value != \'raw\\n\' and value >= -4.1E2 }')).toEqual([
      'from',
      'facts',
      ['and', ['=', 'value', 'first line\nsecond'], ['not', ['=', 'value', 'raw\\n']], ['>=', 'value', -410]],
    ]);
    expect(parsePql('inventory[certname] { facts.os.family = "Debian" and latest_report? = true }')).toEqual([
      'from',
      'inventory',
      ['extract', ['certname'], ['and', ['=', 'facts.os.family', 'Debian'], ['=', 'latest_report?', true]]],
    ]);
    expect(parsePql('nodes {}')).toEqual(['from', 'nodes']);
  });

  it('refuses what it does not read with the column', () => {
    expect(() => parsePql('nodes { certname = }')).toThrow(/column 20: expected a string, number or boolean/);
    expect(() => parsePql('nodes { certname in facts[certname] { value = "x" } }')).toThrow(/subqueries are not supported/);
    expect(() => parsePql('nodes { facts { name = "x" } }')).toThrow(/subqueries/);
    expect(() => parsePql('fact_contents { path ~> ["a", ".*"] }')).toThrow(/~> operator is not supported/);
    expect(() => parsePql('nodes[avg(x)] {}')).toThrow(/only count\(\)/);
    expect(() => parsePql(`nodes { ${'('.repeat(100)}certname = "x"${')'.repeat(100)} }`)).toThrow(/more than 64 levels/);
    expect(() => parsePql('nodes { certname = "x" } extra')).toThrow(/after the query/);
  });
});
