import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { silentLogger } from '@aoinb/logging';
import { agentPid } from './gpg-agent.ts';
import { RepoSigner } from './repo-signer.ts';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The process ended within 120 s (the suite's state deadline: a loaded machine can outlast a few seconds). */
async function gone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

describe('RepoSigner.close (a GnuPG home that may be shared)', () => {
  const tmp = useTempDir('aoinb-signer-');
  afterAll(async () => {
    for (const home of ['own', 'shared']) {
      await execa('gpgconf', ['--kill', 'gpg-agent'], { env: { GNUPGHOME: path.join(tmp.dir, home) }, reject: false });
    }
  });

  it('stops the gpg-agent its start started', async () => {
    const home = path.join(tmp.dir, 'own');
    const signer = await RepoSigner.open({ home, logger: silentLogger() });
    const pid = await agentPid(home);
    expect(pid).toBeGreaterThan(0);
    await signer.close();
    expect(await gone(pid as number)).toBe(true);
    expect(await agentPid(home)).toBeUndefined();
  });

  it('leaves alone an agent that ran before it (a second coordinator, an operator), with both signers', async () => {
    const home = path.join(tmp.dir, 'shared');
    await mkdir(home, { recursive: true, mode: 0o700 });
    const first = await RepoSigner.open({ home, logger: silentLogger() });
    const pid = await agentPid(home);
    // A second coordinator on the same storage opens the same home while the first runs.
    const second = await RepoSigner.open({ home, logger: silentLogger() });
    expect(second.fingerprint).toBe(first.fingerprint);
    await second.close();
    expect(await agentPid(home)).toBe(pid);
    // The first still signs with gpg (the agent it needs is there).
    const gpgSigner = await RepoSigner.open({ home, logger: silentLogger(), gpgOnly: true });
    expect((await gpgSigner.sign('Origin: x\n')).inRelease).toContain('BEGIN PGP SIGNATURE');
    await gpgSigner.close();
    expect(await agentPid(home)).toBe(pid);
    await first.close();
    expect(await gone(pid as number)).toBe(true);
  });
});
