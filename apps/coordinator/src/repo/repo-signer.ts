import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import type { Logger } from '@aoinb/logging';
import { agentPid, stopAgent } from './gpg-agent.ts';
import { clearSign, detachSign, issuerOf, signingKeyFrom, type SigningKey } from './openpgp-signer.ts';

/** What the signer makes of one Release file: apt reads InRelease first, Release + Release.gpg otherwise. */
export interface ReleaseSignatures {
  inRelease: string;
  releaseGpg: string;
}

/** File name of the farm's public key beside every repository (a `signed-by=` target). */
export const publicKeyName = 'aoinb-archive-key.asc';

export interface RepoSignerOptions {
  /** The signer's own GnuPG home (0700; the secret key in it 0600). */
  home: string;
  /** An armored secret key to use instead of generating one (e.g. AOSC's), read at start. */
  keyFile?: string;
  logger: Logger;
  /** Sign with gpg even when the key could be used in-process (the comparison in tests and the benchmark). */
  gpgOnly?: boolean;
}

/**
 * The farm's repository key, held in a GnuPG home of its own under the
 * coordinator's storage: generated at first start (ed25519, no passphrase:
 * the coordinator signs unattended; the file's mode is what guards it), or
 * imported once from a configured key file. Secret key material is only ever
 * in that folder, never in config.toml.
 */
export class RepoSigner {
  private constructor(
    private readonly home: string,
    readonly fingerprint: string,
    /** The armored public key, as served beside each repository. */
    readonly publicKey: string,
    /** The key signed with in-process (no gpg start per publish); undefined: gpg signs. */
    private readonly native: SigningKey | undefined,
    /** The gpg-agent this signer's start started (none ran for the home before it); close stops only that one. */
    private readonly startedAgent: number | undefined,
  ) {}

  /** Who makes the signatures: `in-process` (node:crypto) or `gpg`. */
  get engine(): 'in-process' | 'gpg' {
    return this.native ? 'in-process' : 'gpg';
  }

  static async open(options: RepoSignerOptions): Promise<RepoSigner> {
    const { home, logger } = options;
    await mkdir(home, { recursive: true, mode: 0o700 });
    await chmod(home, 0o700);
    const agentBefore = await agentPid(home);
    let fingerprint = await secretFingerprint(home);
    if (!fingerprint && options.keyFile) {
      const imported = await gpg(home, ['--import', options.keyFile], undefined, false);
      if (imported.exitCode !== 0)
        throw new AoinbError(
          'CONFIG_INVALID',
          `signing key file ${options.keyFile} cannot be imported: ${lastLine(imported.stderr)}`,
        );
      fingerprint = await secretFingerprint(home);
      if (!fingerprint)
        throw new AoinbError('CONFIG_INVALID', `signing key file ${options.keyFile} holds no secret key`);
      logger.info({ fingerprint }, 'repository signing key imported');
    }
    if (!fingerprint) {
      await gpg(home, [
        '--quick-generate-key',
        '--passphrase',
        '',
        'aoinb farm repository key <aoinb@localhost>',
        'ed25519',
        'sign',
        'never',
      ]);
      fingerprint = await secretFingerprint(home);
      if (!fingerprint) throw new AoinbError('INTERNAL', 'gpg generated no repository signing key');
      logger.info({ fingerprint }, 'repository signing key generated');
    }
    const publicKey = String((await gpg(home, ['--armor', '--export', fingerprint])).stdout);
    const keyFile = path.join(home, publicKeyName);
    await writeFile(`${keyFile}.tmp`, `${publicKey}\n`);
    await rename(`${keyFile}.tmp`, keyFile);
    const native = options.gpgOnly ? undefined : await nativeKey(home, fingerprint, logger);
    logger.info({ fingerprint, engine: native ? 'in-process' : 'gpg' }, 'repository signing key ready');
    const started = agentBefore === undefined ? await agentPid(home) : undefined;
    return new RepoSigner(home, fingerprint, `${publicKey}\n`, native, started);
  }

  /** The clear-signed InRelease and the detached Release.gpg (in-process, else two gpg runs side by side). */
  async sign(release: string): Promise<ReleaseSignatures> {
    if (this.native) {
      const now = new Date();
      return { inRelease: clearSign(this.native, release, now), releaseGpg: detachSign(this.native, release, now) };
    }
    const common = ['--armor', '--digest-algo', 'SHA512', '--local-user', this.fingerprint];
    const [clear, detached] = await Promise.all([
      gpg(this.home, [...common, '--clearsign'], release),
      gpg(this.home, [...common, '--detach-sign'], release),
    ]);
    return { inRelease: String(clear.stdout), releaseGpg: String(detached.stdout) };
  }

  /**
   * Stops the gpg-agent this signer started (the coordinator's close), and no
   * other: the home may be shared by a second coordinator or an operator.
   */
  async close(): Promise<void> {
    if (this.startedAgent) await stopAgent(this.home, this.startedAgent);
  }
}

/**
 * The key gpg signs with (a probe signature's issuer: the primary key or a
 * signing subkey), usable in-process when it is Ed25519 or RSA without a
 * passphrase, and only once gpg itself verified both kinds of signature made
 * with it. Otherwise undefined, with the reason logged: gpg signs.
 */
async function nativeKey(home: string, fingerprint: string, logger: Logger): Promise<SigningKey | undefined> {
  const dir = await mkdtemp(path.join(home, 'probe-'));
  try {
    const probe = 'aoinb signing probe\n';
    const issued = await gpg(home, ['--detach-sign', '--local-user', fingerprint, '--output', '-'], probe, true, true);
    const issuer = issuerOf(Buffer.from(issued.stdout as Uint8Array));
    if (!issuer) throw new Error("gpg's signature names no issuer fingerprint");
    const exported = await gpg(home, ['--export-secret-keys', `${issuer}!`], undefined, true, true);
    const key = signingKeyFrom(Buffer.from(exported.stdout as Uint8Array), issuer);
    await writeFile(path.join(dir, 'probe'), probe);
    await writeFile(path.join(dir, 'probe.asc'), detachSign(key, probe));
    await writeFile(path.join(dir, 'clear.asc'), clearSign(key, `Origin: probe\n- dashed\ntrailing  \n`));
    for (const args of [
      ['--verify', 'probe.asc', 'probe'],
      ['--verify', 'clear.asc'],
    ]) {
      const checked = await gpg(
        home,
        args.map((a, i) => (i === 0 ? a : path.join(dir, a))),
        undefined,
        false,
      );
      if (checked.exitCode !== 0) throw new Error(`gpg rejects its signature: ${lastLine(checked.stderr)}`);
    }
    return key;
  } catch (error) {
    logger.warn({ fingerprint, reason: (error as Error).message }, 'repository key cannot sign in-process; gpg signs');
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function secretFingerprint(home: string): Promise<string | undefined> {
  const listed = await gpg(home, ['--with-colons', '--list-secret-keys'], undefined, false);
  const lines = String(listed.stdout).split('\n');
  const sec = lines.findIndex((l) => l.startsWith('sec:'));
  if (sec < 0) return undefined;
  return lines
    .slice(sec + 1)
    .find((l) => l.startsWith('fpr:'))
    ?.split(':')[9];
}

function lastLine(text: unknown): string {
  return String(text).trim().split('\n').pop() ?? '';
}

async function gpg(
  home: string,
  args: string[],
  input?: string,
  reject = true,
  binary = false,
): Promise<{ exitCode?: number; stdout: unknown; stderr: unknown }> {
  const result = await execa('gpg', ['--batch', '--quiet', '--no-tty', '--pinentry-mode', 'loopback', ...args], {
    env: { GNUPGHOME: home, LC_ALL: 'C' },
    extendEnv: false,
    input,
    stripFinalNewline: false,
    reject: false,
    ...(binary ? { encoding: 'buffer' as const } : {}),
  });
  if (reject && result.exitCode !== 0)
    throw new AoinbError('INTERNAL', `gpg ${args[args.length - 1] ?? ''} failed: ${lastLine(result.stderr)}`);
  return result;
}

export async function readPublicKey(home: string): Promise<string> {
  return readFile(path.join(home, publicKeyName), 'utf8');
}
