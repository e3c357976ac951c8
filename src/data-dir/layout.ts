/**
 * Where everything a node keeps lives under its data dir. Every other module
 * asks here for a path instead of spelling a file name: the layout is
 * written once, and the README's data dir table describes this list.
 */
import { join } from 'node:path'

export interface DataPaths {
  root: string
  /** the Ed25519 key (mode 0600) */
  identity: string
  /** the pid of the daemon using the dir */
  lock: string
  /** pid, peer id and addresses of the running daemon, for `umesh status --data-dir` */
  daemonInfo: string
  /** LevelDB: the peer store and DHT records */
  datastore: string
  /** the last time the node ran, to notice a clock that went backwards */
  clock: string
  /** optional, read when no --config / --bootstrap is given */
  config: string
  bootstrap: string
  /** the TUF metadata this node trusts (tuf-js keeps it) */
  tufMetadata: string
  /** every verified metadata and target file, in the repository's layout, served to peers */
  tufMirror: string
  /** verified release indexes and rollout documents, named by their sha256 */
  tufTargets: string
  /** the content-addressed chunk store */
  chunks: string
  /** the releases held completely and the packages followed */
  held: string
  /** the control socket for `umesh update ...` (mode 0600) */
  controlSocket: string
  /** the key rollback points are encrypted with (mode 0600) */
  backupKey: string
  /** the default install roots, one folder per package */
  installs: string
  /** the HTTP API's tokens: name, role and a sha256 of each secret (mode 0600) */
  apiTokens: string
}

export const DATA_FILES = {
  identity: 'identity.json',
  lock: 'daemon.lock',
  daemonInfo: 'daemon.json',
  datastore: 'datastore',
  clock: 'clock.json',
  config: 'config.json',
  bootstrap: 'bootstrap.json',
  chunks: 'chunks',
  held: 'held.json',
  controlSocket: 'control.sock',
  backupKey: 'backup.key',
  installs: 'installs',
  apiTokens: 'api-tokens.json'
} as const

export function dataPaths (root: string): DataPaths {
  const file = (name: string): string => join(root, name)
  return {
    root,
    identity: file(DATA_FILES.identity),
    lock: file(DATA_FILES.lock),
    daemonInfo: file(DATA_FILES.daemonInfo),
    datastore: file(DATA_FILES.datastore),
    clock: file(DATA_FILES.clock),
    config: file(DATA_FILES.config),
    bootstrap: file(DATA_FILES.bootstrap),
    tufMetadata: join(root, 'tuf', 'metadata'),
    tufMirror: join(root, 'tuf', 'mirror'),
    tufTargets: join(root, 'tuf', 'targets'),
    chunks: file(DATA_FILES.chunks),
    held: file(DATA_FILES.held),
    controlSocket: file(DATA_FILES.controlSocket),
    backupKey: file(DATA_FILES.backupKey),
    installs: file(DATA_FILES.installs),
    apiTokens: file(DATA_FILES.apiTokens)
  }
}

/** what a verified target file is: a release index or a rollout document */
export type TargetKind = 'index' | 'rollout'

/** `<sha256>.index.json` or `<sha256>.rollout.json` under tuf/targets */
export function targetFile (paths: DataPaths, sha256: string, kind: TargetKind): string {
  return join(paths.tufTargets, `${sha256}.${kind}.json`)
}

/** the default install root of a package: `<dataDir>/installs/<package>` */
export function defaultInstallRoot (paths: DataPaths, pkg: string): string {
  return join(paths.installs, pkg)
}
