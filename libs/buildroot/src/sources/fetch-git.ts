import { createHash } from 'node:crypto';
import { access, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import { withLock } from '../host/file-lock.ts';
import type { PreparedSource, SourceToFetch } from './source-types.ts';

async function git(args: string[], signal?: AbortSignal): Promise<string> {
  const result = await execa('git', args, { reject: false, cancelSignal: signal, env: { GIT_TERMINAL_PROMPT: '0' } });
  if (result.exitCode !== 0) throw new Error(`git ${args[0]} failed: ${result.stderr.trim().split('\n').pop()}`);
  return result.stdout.trim();
}

function repoName(url: string): string {
  return path.basename(new URL(url).pathname).replace(/\.git$/, '') || 'source';
}

/**
 * Git sources: a bare mirror per URL in the cache (fetched incrementally), then a
 * checkout of `commit=` or `branch=` into the workspace. `.git` is kept only with
 * `copy-repo=true`; submodules are fetched unless `submodule=false`.
 */
export async function fetchGit(source: SourceToFetch, cacheDir: string, destDir: string, signal?: AbortSignal): Promise<PreparedSource> {
  const mirror = path.join(cacheDir, 'git', `${createHash('sha256').update(source.url).digest('hex').slice(0, 32)}.git`);
  const name = source.options.rename ?? repoName(source.url);
  const target = path.join(destDir, name);
  let cached = true;
  try {
    await withLock(`${mirror}.lock`, 'exclusive', async () => {
      if (!(await access(mirror).then(() => true, () => false))) {
        cached = false;
        await mkdir(path.dirname(mirror), { recursive: true });
        await git(['clone', '--mirror', '--quiet', source.url, mirror], signal);
      } else {
        await git(['-C', mirror, 'fetch', '--quiet', '--prune', '--tags', 'origin', '+refs/*:refs/*'], signal).catch((error: Error) => {
          // An unreachable upstream is fine when the mirror already has what we need.
          if (!source.options.commit) throw error;
        });
      }
    });
    const ref = source.options.commit ?? source.options.branch ?? 'HEAD';
    const commit = await git(['-C', mirror, 'rev-parse', '--verify', `${ref}^{commit}`], signal);
    await git(['clone', '--quiet', '--no-checkout', mirror, target], signal);
    await git(['-C', target, 'checkout', '--quiet', '--detach', commit], signal);
    if (source.options.submodule !== 'false') {
      await git(['-C', target, 'remote', 'set-url', 'origin', source.url], signal);
      const depth = source.options.submodule === 'true' ? [] : ['--recursive'];
      await git(['-C', target, 'submodule', 'update', '--init', ...depth, '--quiet'], signal);
    }
    if (!source.options.copyRepo) await rm(path.join(target, '.git'), { recursive: true, force: true });
    return { kind: 'dir', name, cached };
  } catch (error) {
    await rm(target, { recursive: true, force: true });
    throw new AoinbError('SOURCE_FETCH_FAILED', `git source ${source.url}: ${(error as Error).message}`, { cause: error });
  }
}
