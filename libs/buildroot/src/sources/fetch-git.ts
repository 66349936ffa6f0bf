import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { checkPathComponent } from '@aoinb/bundle';
import { AoinbError } from '@aoinb/errors';
import { withLock } from '../host/file-lock.ts';
import type { SourcePolicy } from './destination-policy.ts';
import { startCheckedProxy, type CheckedProxy } from './git-proxy.ts';
import { checkFetchUrl } from './source-url.ts';
import type { PreparedSource, SourceToFetch } from './source-types.ts';

interface GitRun {
  signal: AbortSignal;
  proxy: CheckedProxy;
}

/**
 * git's environment, built from nothing: no user or system config (which
 * could set another proxy or helpers), every network request through the
 * checked proxy, and only http(s) transports, submodules included. Local
 * commands (clone from the mirror) may use the file transport too.
 */
function gitEnv(run: GitRun, network: boolean): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ALLOW_PROTOCOL: network ? 'https:http' : 'file',
    http_proxy: run.proxy.url,
    https_proxy: run.proxy.url,
  };
}

async function git(run: GitRun, args: string[], network = false): Promise<string> {
  const config = ['-c', 'http.proxyAuthMethod=basic', '-c', 'credential.helper=', '-c', 'core.hooksPath=/dev/null'];
  const result = await execa('git', [...config, ...args], {
    reject: false,
    cancelSignal: run.signal,
    env: gitEnv(run, network),
    extendEnv: false,
    stdin: 'ignore',
  });
  if (result.exitCode !== 0) {
    const refusal = run.proxy.refusals()[0];
    if (refusal) throw refusal;
    if (run.signal.aborted) throw new Error('cancelled or took longer than [build] source_timeout_minutes');
    throw new Error(
      `git ${args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? ''} ` +
        `failed: ${result.stderr.trim().split('\n').pop()}`,
    );
  }
  return result.stdout.trim();
}

/** The folder a git source gets: `rename=`, else the repository's name from its URL, both checked. */
export function gitSourceName(source: SourceToFetch): string {
  if (source.options.rename !== undefined)
    return checkPathComponent(source.options.rename, `git source ${source.url} rename=`);
  const name = path.posix.basename(checkFetchUrl(source.url, 'git source').pathname).replace(/\.git$/, '') || 'source';
  return checkPathComponent(name, `folder name from URL ${source.url}`);
}

async function updateMirror(run: GitRun, source: SourceToFetch, mirror: string): Promise<boolean> {
  const exists = await lstat(mirror).then(
    (st) => st.isDirectory(),
    () => false,
  );
  if (exists) {
    await git(run, ['-C', mirror, 'fetch', '--quiet', '--prune', '--tags', 'origin', '+refs/*:refs/*'], true).catch(
      (error: Error) => {
        // An unreachable upstream is fine when the mirror already has what we need; a refused one is not.
        if (!source.options.commit || error instanceof AoinbError) throw error;
      },
    );
    return true;
  }
  // Cloned beside its place and renamed in: a crash never leaves a half mirror that looks complete.
  const temp = `${mirror}.tmp-${randomBytes(6).toString('hex')}`;
  await mkdir(path.dirname(mirror), { recursive: true });
  try {
    await git(run, ['clone', '--mirror', '--quiet', '--', source.url, temp], true);
    await rename(temp, mirror);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return false;
}

/**
 * Git sources: a bare mirror per URL in the cache (fetched incrementally), then a
 * checkout of `commit=` or `branch=` into the workspace. `.git` is kept only with
 * `copy-repo=true`; submodules are fetched unless `submodule=false`. Only what
 * this call created is removed when it fails.
 */
export async function fetchGit(
  source: SourceToFetch,
  cacheDir: string,
  destDir: string,
  policy: SourcePolicy,
  signal?: AbortSignal,
): Promise<PreparedSource> {
  const name = gitSourceName(source);
  const mirror = path.join(
    cacheDir,
    'git',
    `${createHash('sha256').update(source.url).digest('hex').slice(0, 32)}.git`,
  );
  const target = path.join(destDir, name);
  const timeout = AbortSignal.timeout(policy.timeoutMs);
  const run: GitRun = {
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    proxy: await startCheckedProxy(policy),
  };
  let created = false;
  try {
    const cached = await withLock(`${mirror}.lock`, 'exclusive', () => updateMirror(run, source, mirror));
    const ref = source.options.commit ?? source.options.branch ?? 'HEAD';
    const commit = await git(run, ['-C', mirror, 'rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`]);
    if (
      await lstat(target).then(
        () => true,
        () => false,
      )
    )
      throw new AoinbError('BUNDLE_INVALID', `${name} is already used by another source`);
    created = true;
    await git(run, ['clone', '--quiet', '--no-checkout', '--', mirror, target]);
    await git(run, ['-C', target, 'checkout', '--quiet', '--detach', commit]);
    if (source.options.submodule !== 'false') {
      await git(run, ['-C', target, 'remote', 'set-url', 'origin', source.url]);
      const depth = source.options.submodule === 'true' ? [] : ['--recursive'];
      await git(run, ['-C', target, 'submodule', 'update', '--init', ...depth, '--quiet'], true);
    }
    if (!source.options.copyRepo) await rm(path.join(target, '.git'), { recursive: true, force: true });
    return { kind: 'dir', name, cached };
  } catch (error) {
    // `target` is one checked name inside the sources folder the pipeline made, and only if this call made it.
    if (created) await rm(target, { recursive: true, force: true });
    const message = `git source ${source.url}: ${(error as Error).message}`;
    throw new AoinbError(error instanceof AoinbError ? error.code : 'SOURCE_FETCH_FAILED', message, { cause: error });
  } finally {
    await run.proxy.close();
  }
}
