export { parseShellAssignments, ShellVariables, type ParseShellOptions } from './shell-assignments.ts';
export { compilePattern, matchPattern, escapePattern, type CompiledPattern } from './extglob.ts';
export { parseSpec, parseBoolean, type Spec, type ParseSpecOptions } from './spec.ts';
export {
  parseSource,
  parseSourceList,
  parseChecksum,
  SOURCE_TYPES,
  type Source,
  type SourceType,
  type SourceOptions,
  type Checksum,
} from './sources.ts';
export {
  parseDefines,
  DEPENDENCY_KEYS,
  type Defines,
  type DependencyKey,
  type ParseDefinesOptions,
} from './defines.ts';
export { parseDependencyList, parseDependency, type Dependency, type VersionOp } from './dependency.ts';
export { resolveArchName, resolveSpecName, getForArch, type ResolvedName } from './arch-override.ts';
export { ARCH_GROUPS, KNOWN_ARCHS, archGroupsOf } from './arch-groups.ts';
export {
  allowedArchs,
  archPatternMatches,
  packageDenies,
  type ArchDecision,
  type ArchFilterInput,
  type ArchFilterOptions,
  type DeniedArch,
} from './arch-filter.ts';
export { parseEnvReq, mergeEnvReq, envReqShortfalls, type EnvReq, type HostResources } from './envreq.ts';
export { loadBundle, type Bundle, type BundlePackage, type LoadBundleOptions } from './load-bundle.ts';
export { type BundleLayout, MAX_METADATA_BYTES } from './bundle-files.ts';
export { readGroup, type GroupEntry } from './group-file.ts';
export { indexTree, resolvePackage, badPackageRef, type TreeIndex } from './tree-index.ts';
export { packTreeBundles, resolveTreePackages, type TreeBundle } from './tree-bundle.ts';
export { loadWholeTree, readAllGroups, type TreeLoadReport, type Refusal, type GroupReport } from './tree-corpus.ts';
export { extractBundleArchive, packBundle, type ExtractResult, type PackOptions } from './bundle-archive.ts';
export { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive-validate.ts';
export { detectCompression, type Compression } from './decompress.ts';
export { checkPathComponent, checkRelativePath, joinInside, isInside } from './safe-path.ts';
