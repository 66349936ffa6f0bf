import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeTokens, tokenizeLua } from './lua-lexer.ts';
import { applyLuaMutant, generateLuaMutants, type LuaMutant } from './lua-mutants.ts';
import { findLuaSegments } from './lua-sources.ts';

// A TypeScript file holding Lua the way libs/farm-protocol does: a template with a substitution, comments
// and strings that contain operators, and a TS string that is not Lua.
const source = [
  "import { helperFn } from './helper.ts';",
  "const message = 'a == b and not c';",
  'export const sampleScript = `${helperFn}',
  "-- a comment: x == 1 and not y, redis.call('DEL', KEYS[1])",
  "local state = redis.call('HGET', KEYS[1], 'state')",
  "if not state or state ~= 'running' then return {0, 'a < b or c'} end",
  '--[[ long comment: if x >= 2 then return 1 end ]]',
  "redis.call('HSET', KEYS[1], 'state', 'queued')",
  'local n = tonumber(ARGV[2]) + 1',
  "while n > 0 and state == 'queued' do n = n - 1 end",
  'return true',
  '`;',
].join('\n');

const mutants = generateLuaMutants('sample.ts', source);
const where = (m: LuaMutant): string => source.slice(source.lastIndexOf('\n', m.start) + 1).split('\n')[0] ?? '';
const of = (operator: string): LuaMutant[] => mutants.filter((m) => m.operator === operator);
const changes = (operator: string): string[] => of(operator).map((m) => `${m.original} -> ${m.replacement}`);

describe('the Lua mutant generator', () => {
  it('finds the Lua of a template literal around its substitution, and no other string', () => {
    const segments = findLuaSegments('sample.ts', source);
    expect(segments.map((s) => s.script)).toEqual(['sampleScript', 'sampleScript']);
    expect(segments[0]?.text).toBe('');
    expect(segments[1]?.text.startsWith('\n-- a comment')).toBe(true);
    expect(mutants.every((m) => m.start > source.indexOf('`${helperFn}'))).toBe(true);
  });

  it('tokenises comments and strings as one token each, so nothing inside them is code', () => {
    const lua = findLuaSegments('sample.ts', source)[1]?.text ?? '';
    const kinds = tokenizeLua(lua).filter((t) => t.kind === 'comment' || t.kind === 'string');
    expect(kinds.filter((t) => t.kind === 'comment')).toHaveLength(2);
    expect(codeTokens(lua).some((t) => t.text === '>=')).toBe(false);
    expect(tokenizeLua("x = [==[ a ]] == b ]==] .. 'it\\'s'")[2]).toMatchObject({
      kind: 'string',
      text: '[==[ a ]] == b ]==]',
    });
  });

  it('never mutates inside a comment or a string other than a state name', () => {
    for (const m of mutants) {
      const line = where(m);
      expect(line.startsWith('--')).toBe(false);
      if (m.operator !== 'state-name') expect(m.original).not.toMatch(/^'/);
    }
    expect(changes('relational')).toEqual(['~= -> ==', '> -> >=', '== -> ~=']);
    expect(changes('logical')).toEqual(['or -> and', 'and -> or']);
  });

  it('applies each operator at the right place', () => {
    expect(changes('not-removed')).toEqual(['not  -> ']);
    expect(changes('state-name')).toEqual([
      "'running' -> 'succeeded'",
      "'queued' -> 'running'",
      "'queued' -> 'running'",
    ]);
    expect(changes('number')).toEqual(['1 -> 0', '0 -> 1', '1 -> 0', '2 -> 3', '1 -> 0', '0 -> 1', '1 -> 0']);
    expect(changes('return-value')).toEqual(["{0, 'a < b or c'} -> nil", 'true -> false']);
    expect(changes('call-removed')).toEqual(["redis.call('HSET', KEYS[1], 'state', 'queued') -> "]);
    expect(changes('condition')).toEqual([
      "not state or state ~= 'running' -> true",
      "not state or state ~= 'running' -> false",
      "n > 0 and state == 'queued' -> true",
      "n > 0 and state == 'queued' -> false",
    ]);
  });

  it('keeps a call that is part of an expression (only call statements are removed)', () => {
    expect(of('call-removed').some((m) => m.original.includes("'HGET'"))).toBe(false);
  });

  it('makes every mutant differ from the original, each one distinct, with its line in the file', () => {
    const texts = mutants.map((m) => applyLuaMutant(source, m));
    expect(texts.every((t) => t !== source)).toBe(true);
    expect(new Set(texts).size).toBe(mutants.length);
    const hset = of('call-removed')[0];
    expect(hset?.line).toBe(8);
    expect(source.split('\n')[7]?.slice((hset?.column ?? 0) - 1)).toMatch(/^redis\.call\('HSET'/);
  });

  it('generates mutants of the real state scripts, each one still a change of Lua code', () => {
    const file = path.join(import.meta.dirname, '../libs/farm-protocol/src/transition-script.ts');
    const text = readFileSync(file, 'utf8');
    const real = generateLuaMutants(file, text);
    expect(new Set(real.map((m) => m.operator)).size).toBe(8);
    expect(real.every((m) => applyLuaMutant(text, m) !== text)).toBe(true);
  });
});
