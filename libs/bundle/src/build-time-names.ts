/**
 * Variables that exist only while autobuild4 builds: it sets them before it
 * sources `defines` (proc/01-core-defines.sh, lib/default-paths.sh,
 * lib/default-defines.sh, lib/default-flags.sh, arch/*.sh). A bundle that
 * reads one of them reads a value only the build host knows, so the static
 * reader refuses it instead of expanding it to "" as bash would for a
 * variable nothing sets.
 */
const BUILD_DIRS = ['SRCDIR', 'BLDDIR', 'PKGDIR', 'SYMDIR'];
const AUTOBUILD = [
  'AB',
  'ABBLPREFIX',
  'ABBUILD',
  'ABTARGET',
  'ABHOST_GROUP',
  'DPKG_ARCH',
  'HOST',
  'BUILD',
  'ABTHREADS',
  'HWCAPS',
];
const PATHS = [
  'BASHCOMP',
  'BINDIR',
  'BINFMTD',
  'BOOTDIR',
  'CONFD',
  'CROND',
  'DOCDIR',
  'ETCDEF',
  'FCCONF',
  'FDOAPP',
  'FDOICO',
  'FONTDIR',
  'GSCHEMAS',
  'GTKDOC',
  'INCLUDE',
  'JAVAHOME',
  'JAVAMOD',
  'LDSOCONF',
  'LIBDIR',
  'LIBEXEC',
  'LICDIR',
  'LOCALES',
  'LOGROT',
  'MANDIR',
  'PAMDIR',
  'PREFIX',
  'PROFILED',
  'QT4BIN',
  'QT4DIR',
  'QT5BIN',
  'QT5DIR',
  'RUNDIR',
  'SKELDIR',
  'STATDIR',
  'SYDDIR',
  'SYDSCR',
  'SYSCONF',
  'THEMES',
  'TMPDIR',
  'TMPFILE',
  'USRSRC',
  'VARLIB',
  'VIMDIR',
  'X11CONF',
  'ZSHCOMP',
];
const TEMPLATE_DEFAULTS = [
  'AUTOSETUP_DEF',
  'AUTOTOOLS_DEF',
  'CMAKE_DEF',
  'MAKE_INSTALL_DEF',
  'MESON_DEF',
  'QTPROJ_DEF',
  'WAF_DEF',
];
const ENVIRONMENT = ['PWD', 'OLDPWD', 'HOME', 'PATH', 'USER', 'SHELL', 'CC', 'CXX', 'OBJC', 'OBJCXX', 'LD'];
/** Compiler flags and their building blocks (CFLAGS, CFLAGS_COMMON_ARCH, RUSTFLAGS_COMMON_OPTI, ...). */
const FLAGS = /^(?:C|CXX|CPP|LD|OBJC|OBJCXX|RUST)FLAGS(?:_[A-Z0-9_]+)?$/;

const NAMES = new Set([...BUILD_DIRS, ...AUTOBUILD, ...PATHS, ...TEMPLATE_DEFAULTS, ...ENVIRONMENT]);

/** True for a name whose value only the build host knows. */
export function isBuildTimeName(name: string): boolean {
  return NAMES.has(name) || FLAGS.test(name);
}

/** Every fixed build-time name (the flag names are matched by pattern). */
export const BUILD_TIME_NAMES: readonly string[] = [...NAMES];
