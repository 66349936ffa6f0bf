import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The README's two commands are the contract with a new user and with CI: they must stay in it, and be real. */
const root = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

describe('the README', () => {
  const readme = read('README.md');

  it('gives the command that runs the farm and the one that runs the whole test suite', () => {
    expect(readme).toMatch(/^ {4}bash scripts\/quickstart\.sh$/m);
    expect(readme).toMatch(/^ {4}bash scripts\/test\.sh$/m);
  });

  it('names the test command CI runs: .ci/run executes exactly scripts/test.sh', () => {
    const commands = read('.ci/run')
      .split('\n')
      .filter(
        (line) => line.trim() !== '' && !line.startsWith('#') && !line.startsWith('set ') && !line.startsWith('cd '),
      );
    expect(commands).toEqual(['exec bash scripts/test.sh']);
  });

  it('says which Node and npm are supported and documents the single-host commands', () => {
    expect(readme).toMatch(/Node 20\.19 or later/);
    for (const command of ['build BUNDLE BRANCH', 'load-baseos', 'update-baseos', 'cleanup all']) {
      expect(readme).toContain(command);
    }
  });
});
