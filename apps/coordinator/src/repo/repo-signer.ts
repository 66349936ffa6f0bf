import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import type { Logger } from '@aoinb/logging';

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
  ) {}

  static async open(options: RepoSignerOptions): Promise<RepoSigner> {
    const { home, logger } = options;
    await mkdir(home, { recursive: true, mode: 0o700 });
    await chmod(home, 0o700);
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
    return new RepoSigner(home, fingerprint, `${publicKey}\n`);
  }

  /** The clear-signed InRelease and the detached Release.gpg (two gpg runs, side by side). */
  async sign(release: string): Promise<ReleaseSignatures> {
    const common = ['--armor', '--digest-algo', 'SHA512', '--local-user', this.fingerprint];
    const [clear, detached] = await Promise.all([
      gpg(this.home, [...common, '--clearsign'], release),
      gpg(this.home, [...common, '--detach-sign'], release),
    ]);
    return { inRelease: String(clear.stdout), releaseGpg: String(detached.stdout) };
  }

  /** Stops the gpg-agent this home started (the coordinator's close). */
  async close(): Promise<void> {
    await execa('gpgconf', ['--kill', 'all'], { env: { GNUPGHOME: this.home }, reject: false });
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
): Promise<{ exitCode?: number; stdout: unknown; stderr: unknown }> {
  const result = await execa('gpg', ['--batch', '--quiet', '--no-tty', '--pinentry-mode', 'loopback', ...args], {
    env: { GNUPGHOME: home, LC_ALL: 'C' },
    extendEnv: false,
    input,
    stripFinalNewline: false,
    reject: false,
  });
  if (reject && result.exitCode !== 0)
    throw new AoinbError('INTERNAL', `gpg ${args[args.length - 1] ?? ''} failed: ${lastLine(result.stderr)}`);
  return result;
}

export async function readPublicKey(home: string): Promise<string> {
  return readFile(path.join(home, publicKeyName), 'utf8');
}
