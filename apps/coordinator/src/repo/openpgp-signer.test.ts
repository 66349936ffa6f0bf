import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { silentLogger } from '@aoinb/logging';
import { RepoSigner } from './repo-signer.ts';

const tmp = useTempDir('aoinb-openpgp-');
const opened: RepoSigner[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

async function open(name: string, keyFile?: string, gpgOnly = false): Promise<RepoSigner> {
  const signer = await RepoSigner.open({ home: path.join(tmp.dir, name), keyFile, logger: silentLogger(), gpgOnly });
  opened.push(signer);
  return signer;
}

/** gpgv, apt's own verifier, against a keyring holding only the signer's public key. */
async function gpgv(signer: RepoSigner, files: Record<string, string>, ...args: string[]): Promise<number> {
  const work = await mkdtemp(path.join(tmp.dir, 'v-'));
  const keyring = path.join(work, 'key.gpg');
  await execa('gpg', ['--batch', '--yes', '--dearmor', '--output', keyring], { input: signer.publicKey });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(work, name), text);
  const r = await execa('gpgv', ['--keyring', keyring, ...args.map((a) => path.join(work, a))], { reject: false });
  return r.exitCode ?? -1;
}

/** A secret key made by gpg in a home of its own, armored: what an operator puts in signing_key_file. */
async function exportedKey(name: string, generate: (gpg: Gpg) => Promise<unknown>): Promise<string> {
  const home = path.join(tmp.dir, `gen-${name}`);
  const gpg: Gpg = async (args) =>
    (
      await execa('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
        env: { GNUPGHOME: home },
      })
    ).stdout;
  await execa('mkdir', ['-m', '700', home]);
  await generate(gpg);
  const file = path.join(tmp.dir, `${name}.asc`);
  await gpg(['--armor', '--output', file, '--export-secret-keys']);
  await execa('gpgconf', ['--kill', 'all'], { env: { GNUPGHOME: home } });
  return file;
}

type Gpg = (args: string[]) => Promise<string>;

const release = 'Origin: aoinb\nLabel: aoinb stable\nSHA256:\n 0123 45 Packages\n';

async function expectValid(signer: RepoSigner): Promise<void> {
  const signed = await signer.sign(release);
  expect(await gpgv(signer, { InRelease: signed.inRelease }, 'InRelease')).toBe(0);
  expect(await gpgv(signer, { Release: release, 'Release.gpg': signed.releaseGpg }, 'Release.gpg', 'Release')).toBe(0);
  // The signatures are of this text: another text does not pass.
  const forged = signed.inRelease.replace(' 45 Packages', ' 46 Packages');
  expect(await gpgv(signer, { InRelease: forged }, 'InRelease')).not.toBe(0);
  const other = release.replace('stable', 'testing');
  expect(await gpgv(signer, { Release: other, 'Release.gpg': signed.releaseGpg }, 'Release.gpg', 'Release')).not.toBe(
    0,
  );
}

describe('in-process OpenPGP signatures, checked by gpgv', () => {
  it('signs with the generated Ed25519 key in-process, as gpg would', async () => {
    const signer = await open('ed25519');
    expect(signer.engine).toBe('in-process');
    await expectValid(signer);
    expect((await signer.sign(release)).inRelease).toMatch(
      new RegExp(
        '^-----BEGIN PGP SIGNED MESSAGE-----\\nHash: SHA512\\n\\nOrigin: aoinb\\n[^]*\\n' +
          '-----BEGIN PGP SIGNATURE-----\\n\\n[^]+\\n=[A-Za-z0-9+/]{4}\\n-----END PGP SIGNATURE-----\\n$',
      ),
    );
    const viaGpg = await open('ed25519', undefined, true);
    expect(viaGpg.engine).toBe('gpg');
    await expectValid(viaGpg);
  });

  it('dash-escapes the clear text and signs it as canonical text', async () => {
    const signer = await open('dashes');
    const text = '-----BEGIN PGP SIGNATURE-----\nfield: value\n';
    const signed = await signer.sign(text);
    expect(signed.inRelease).toContain(
      '\n- -----BEGIN PGP SIGNATURE-----\nfield: value\n-----BEGIN PGP SIGNATURE-----',
    );
    expect(await gpgv(signer, { InRelease: signed.inRelease }, 'InRelease')).toBe(0);
  });

  it('signs with an imported RSA key in-process', async () => {
    const file = await exportedKey('rsa', (gpg) =>
      gpg(['--quick-generate-key', 'rsa test <rsa@localhost>', 'rsa2048', 'sign', 'never']),
    );
    const signer = await open('rsa', file);
    expect(signer.engine).toBe('in-process');
    await expectValid(signer);
  });

  it("signs with the key's signing subkey when it has one, as gpg picks it", async () => {
    const file = await exportedKey('subkey', async (gpg) => {
      await gpg(['--quick-generate-key', 'sub test <sub@localhost>', 'ed25519', 'cert', 'never']);
      const primary = (await gpg(['--with-colons', '--list-secret-keys']))
        .split('\n')
        .find((l) => l.startsWith('fpr:'));
      await gpg(['--quick-add-key', primary!.split(':')[9]!, 'ed25519', 'sign', 'never']);
    });
    const signer = await open('subkey', file);
    expect(signer.engine).toBe('in-process');
    await expectValid(signer);
  });
});
