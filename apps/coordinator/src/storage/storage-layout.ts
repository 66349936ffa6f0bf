import path from 'node:path';
import { AoinbError } from '@aoinb/errors';

/** Everything the coordinator keeps on disk, under `coordinator.storage_dir`. */
export interface StorageLayout {
  root: string;
  /** Uploads in progress (same file system as the rest, so a finished upload is a rename). */
  tmpDir: string;
  /** The folder of every task's folder, and of every task's archived logs. */
  tasksDir: string;
  logsDir: string;
  taskDir(taskId: string): string;
  /** The bundle archive as uploaded. */
  bundleArchive(taskId: string): string;
  /** The bundle, extracted and checked. */
  bundleDir(taskId: string): string;
  /** Artifacts of one attempt of one run of one arch: attempts never overwrite each other. */
  artifactDir(taskId: string, arch: string, run: number, attempt: number): string;
  artifactsRoot(taskId: string, arch: string): string;
  logFile(taskId: string, arch: string, run: number): string;
  /** The archived logs of every run of a task. */
  logDir(taskId: string): string;
  /** The apt repository of a branch. */
  repoDir(branch: string): string;
  /** Cached control stanzas of the debs in a branch repo. */
  indexCacheDir(branch: string): string;
  /** The apt repository of a group: its members' fresh debs. */
  groupRepoDir(groupId: string): string;
  groupIndexCacheDir(groupId: string): string;
  /** Everything a group keeps on disk (its repository and index cache). */
  groupDir(groupId: string): string;
  /** The GnuPG home of the repositories' signing key (0700). */
  signingHome: string;
}

const safeSegment = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

function segment(value: string, what: string): string {
  if (!safeSegment.test(value) || value.includes('..'))
    throw new AoinbError('USAGE', `${what} ${JSON.stringify(value)} is not a valid name`);
  return value;
}

export function storageLayout(storageDir: string): StorageLayout {
  const root = path.resolve(storageDir);
  const taskDir = (taskId: string): string => path.join(root, 'tasks', segment(taskId, 'task id'));
  return {
    root,
    tmpDir: path.join(root, 'tmp'),
    tasksDir: path.join(root, 'tasks'),
    logsDir: path.join(root, 'logs'),
    taskDir,
    bundleArchive: (taskId) => path.join(taskDir(taskId), 'bundle.archive'),
    bundleDir: (taskId) => path.join(taskDir(taskId), 'bundle'),
    artifactsRoot: (taskId, arch) => path.join(taskDir(taskId), 'artifacts', segment(arch, 'arch')),
    artifactDir: (taskId, arch, run, attempt) =>
      path.join(taskDir(taskId), 'artifacts', segment(arch, 'arch'), `r${run}a${attempt}`),
    logFile: (taskId, arch, run) =>
      path.join(root, 'logs', segment(taskId, 'task id'), `${segment(arch, 'arch')}-r${run}.log`),
    logDir: (taskId) => path.join(root, 'logs', segment(taskId, 'task id')),
    repoDir: (branch) => path.join(root, 'output', segment(branch, 'branch')),
    indexCacheDir: (branch) => path.join(root, 'index-cache', segment(branch, 'branch')),
    groupRepoDir: (groupId) => path.join(root, 'groups', segment(groupId, 'group id'), 'repo'),
    groupIndexCacheDir: (groupId) => path.join(root, 'groups', segment(groupId, 'group id'), 'index-cache'),
    groupDir: (groupId) => path.join(root, 'groups', segment(groupId, 'group id')),
    signingHome: path.join(root, 'signing'),
  };
}
