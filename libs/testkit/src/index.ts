export { parseOneLineSources, parseDeb822Sources, type AptSourceEntry } from './apt-sources.ts';
export {
  pickDebianMirror,
  readAptSources,
  readCodename,
  readDebianMirror,
  type DebianMirror,
} from './debian-mirror.ts';
export {
  ensureTestBaseos,
  installAutobuild4ScriptPath,
  standinAutobuildPath,
  testBaseosLabel,
  standinLabel,
  testBaseosSuite,
  defaultTestkitCacheDir,
  type TestBaseos,
  type EnsureTestBaseosOptions,
} from './test-baseos.ts';
export { testBaseosPackages, packRootfs, type AutobuildRecipe } from './debootstrap-rootfs.ts';
export { autobuild4Release, autobuild4Tarball } from './autobuild4-source.ts';
export { startRedis, type RedisHandle } from './redis-server.ts';
export { startRedisCluster, type RedisClusterHandle } from './redis-cluster.ts';
export { mountSmallDisk, type SmallDisk } from './small-tmpfs.ts';
export { freePort } from './free-port.ts';
export { serveFolder, type FileServer } from './http-file-server.ts';
export { makeSourceTarball, sha256File, type SourceTarball } from './source-tarball.ts';
export { writeTestConfig, type TestConfigOptions } from './test-config.ts';
export {
  prepareExampleSource,
  copyBundleWithPort,
  specSha256,
  examplesDir,
  exampleBundleDir,
  exampleSourceDir,
  exampleSourcePort,
  exampleTarballName,
  type ExampleSource,
} from './example-bundle.ts';
export { fakeBundleFiles, writeFakeBundle, writeFakeBundleAt, type FakeBundle } from './fake-bundle.ts';
export {
  writeSplitTestBundle,
  writeFailingTestBundle,
  failingTestBundles,
  type FailingTestBundle,
} from './test-bundles.ts';
export {
  mountOverlayFixture,
  runInNspawn,
  uniqueMachineName,
  type OverlayFixture,
  type NspawnRun,
} from './overlay-fixture.ts';
export { withFileLock } from './file-lock.ts';
export { buildAppsIfStale, ensureAppsBuilt } from './app-builds.ts';
export { median } from './median.ts';
export { assertHostReady, missingHostTools, findExecutable, hostTools } from './host-tools.ts';
export { mountsUnder, removeTree } from './remove-tree.ts';
export { startPrometheus, promtool, type PrometheusHandle, type StartPrometheusOptions } from './prometheus-server.ts';
export { promqlMetricNames, grafanaQueryMetricNames } from './promql-names.ts';
export { parsePromText, type PromText, type PromSample } from './prom-text.ts';
export { sharedDir, sharedFile, ensureAbbsSnapshot, abbsSnapshotName } from './shared-inputs.ts';
export {
  fetchDebianOrig,
  findOrigInSources,
  type DebianOrig,
  type DebianOrigRequest,
  type DebianOrigOptions,
} from './debian-orig-sources.ts';
export { makeTestDeb } from './test-deb.ts';
export { asFileFixture } from './open-handles.ts';
export { FarmLogs, type FarmLogsOptions, type ProcessLog } from './farm-logs.ts';
