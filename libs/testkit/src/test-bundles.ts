import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exampleSourcePort, exampleTarballName } from './example-bundle.ts';

/** Writes `files` (relative path -> text) under `dir`. */
async function writeTree(dir: string, files: Record<string, string>): Promise<string> {
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  return dir;
}

const greetingPatch = `--- a/hello-aoinb.c
+++ b/hello-aoinb.c
@@ -30,6 +30,6 @@
 		}
 		name = argv[1];
 	}
-	printf("Hello, %s! (built by aoinb)\\n", name);
+	printf("Howdy, %s! (built by aoinb)\\n", name);
 	return 0;
 }
`;

/**
 * A split bundle over the example source (same tarball and sha256 as the
 * example spec; EPOCH=2, REL=3): `01-hello-split` (patched, its own
 * build script, prepare/beyond, overrides, conffiles, postinst, arch override of
 * PKGDEP, versioned BUILDDEP) and `02-hello-split-doc` (noarch, ABTYPE=self,
 * depending on its sibling). Returns `dir`.
 */
export async function writeSplitTestBundle(dir: string, options: { sha256: string; arch: string }): Promise<string> {
  const archKey = options.arch.toUpperCase();
  return writeTree(dir, {
    spec:
      `VER=1.0\nREL=3\nEPOCH=2\nSRCS="tbl::http://127.0.0.1:${exampleSourcePort}/${exampleTarballName}"\n` +
      `CHKSUMS="sha256::${options.sha256}"\n`,
    'autobuild/01-hello-split/defines': [
      'PKGNAME=hello-split',
      'PKGSEC=utils',
      'PKGDES="Split example: the program"',
      'ABTYPE=self',
      'BUILDDEP="make>=4.0 gcc"',
      'PKGDEP="libc6"',
      `PKGDEP__${archKey}="libc6>=2.30"`,
      'PKGRECOM="hello-split-doc"',
      'PKGCONFL="hello-old<=0.9"',
      'PKGPROV="hello-greeter"',
      '',
    ].join('\n'),
    'autobuild/01-hello-split/patches/0001-greeting.patch': greetingPatch,
    // autobuild4 has no plain-Makefile template: a Makefile project builds with its own script.
    'autobuild/01-hello-split/build':
      'make CC="gcc $CPPFLAGS $CFLAGS $LDFLAGS"\nmake install PREFIX="$PKGDIR"/usr MANDIR="$PKGDIR"/usr/share/man\n',
    'autobuild/01-hello-split/prepare': 'abinfo "preparing in $SRCDIR"\necho "$PKGNAME $PKGVER" > prepared.txt\n',
    'autobuild/01-hello-split/beyond': 'install -Dm644 prepared.txt "$PKGDIR"/usr/share/hello-split/prepared.txt\n',
    'autobuild/01-hello-split/overrides/etc/hello-split.conf': 'greeting=howdy\n',
    'autobuild/01-hello-split/conffiles': '/etc/hello-split.conf\n',
    'autobuild/01-hello-split/postinst': 'echo "hello-split configured"\n',
    'autobuild/02-hello-split-doc/defines': [
      'PKGNAME=hello-split-doc',
      'PKGSEC=doc',
      'PKGDES="Split example: the manual"',
      'ABHOST=noarch',
      'ABTYPE=self',
      'PKGDEP="hello-split==2:1.0-3"',
      '',
    ].join('\n'),
    'autobuild/02-hello-split-doc/build': [
      '[ -x hello-aoinb ] || { aberr "the shared build dir lost hello-aoinb"; exit 1; }',
      'install -Dm644 hello-aoinb.1 "$PKGDIR"/usr/share/man/man1/hello-split.1',
      '',
    ].join('\n'),
  });
}

/**
 * Bundles that must fail, each for one reason: `build-fails` and `no-build-method` in
 * autobuild4; `arch-excluded` and `no-pkgdes` are refused on the host before any container.
 */
export const failingTestBundles = {
  /** autobuild/build exits non-zero. */
  'build-fails': {
    'autobuild/defines': 'PKGNAME=broken\nPKGSEC=utils\nPKGDES="fails"\nABTYPE=self\n',
    'autobuild/build': 'abinfo "about to fail"\nfalse\necho "must not get here"\n',
  },
  /** Neither a build script nor a Makefile (the source is not unpacked for this one). */
  'no-build-method': { 'autobuild/defines': 'PKGNAME=nomethod\nPKGSEC=utils\nPKGDES="no way to build"\n' },
  /** FAIL_ARCH excludes every arch. */
  'arch-excluded': { 'autobuild/defines': 'PKGNAME=noarch-here\nPKGSEC=utils\nPKGDES="x"\nFAIL_ARCH="*"\n' },
  /** A required define is missing. */
  'no-pkgdes': { 'autobuild/defines': 'PKGNAME=nodes\nPKGSEC=utils\n' },
} as const satisfies Record<string, Record<string, string>>;

export type FailingTestBundle = keyof typeof failingTestBundles;

export async function writeFailingTestBundle(dir: string, kind: FailingTestBundle): Promise<string> {
  return writeTree(dir, { spec: 'VER=1.0\nDUMMYSRC=1\n', ...failingTestBundles[kind] });
}
