import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { slowFiles } from './vitest-slow-first.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

describe('the slow-first file order (vitest.config.ts)', () => {
  it('names only test files that exist, each once', async () => {
    expect(new Set(slowFiles).size).toBe(slowFiles.length);
    for (const file of slowFiles) {
      expect(file).toMatch(/\.test\.ts$/);
      await expect(access(path.join(root, file)), file).resolves.toBeUndefined();
    }
  });
});
