/**
 * Install benchmark: prints figures, asserts nothing.
 *
 *   npm run bench:install                  (npm run build && node dist/bench/install.js)
 *   node dist/bench/install.js [--mib 200] [--runs 5] [--swaps 200]    (BENCH_MIB sets --mib's default)
 *
 * In this process, no network, no daemon. A package of --mib files of 1 MiB
 * each (seeded pseudo-random bytes, src/util/pseudo-random.ts) is chunked
 * into a chunk store and described by release indexes built here (unsigned:
 * the Installer takes the indexes it is given as verified). Versions 1.1.0
 * and 1.2.0 each rewrite 1% of the files, other files each time. The install
 * engine (Installer, stageVersion, switchCurrent) is driven directly, with no
 * activate hook and no health check, keepVersions 3.
 *
 * 1. symlink swap: switchCurrent between two version folders, --swaps times,
 *    interleaved with its two parts alone (symlink + rename; fsync of the
 *    install root), so the figures share the machine's state;
 * 2. staging throughput: stageVersion alone, the whole package into a fresh
 *    staging folder (every file written from chunks), and 1.1.0 beside 1.0.0
 *    (unchanged files hashed and hard-linked); baselines in the same rounds:
 *    `cp -r` of the source tree, a read + write + fsync copy of each file,
 *    reading + sha256 of each file, and one link() per file;
 * 3. end to end: Installer.install of 1.0.0 (first install), 1.1.0 and 1.2.0
 *    (the last with one small state path saved as a rollback point), and
 *    each step's share, timed from the installer's progress lines;
 * 4. rollback: Installer.rollback() from 1.2.0 (the state path restored),
 *    then from 1.1.0 (no rollback point: switch back and journal only);
 * 5. disk: real bytes (st.blocks x 512 over unique inodes) of versions/ with
 *    three versions installed, against three full copies of the same trees
 *    written without links, and 3 x the package size.
 *
 * The file system is synced (sync -f) before the swaps and before each
 * round's staging and installs, so writeback of the benchmark's own earlier
 * writes (the package, the no-fsync copies) does not land in the figures.
 * Figures are medians over --runs rounds (the swap: over every swap). The
 * temp folder is removed as it goes, at the end, and on SIGINT/SIGTERM.
 */
import '../src/polyfill.js'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { closeSync, existsSync, fsyncSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, symlinkSync, writeFileSync, writeSync } from 'node:fs'
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { defaultLogger } from '@libp2p/logger'
import { openChunkStore } from '../src/content/chunk-store.js'
import { BACKUP_KEY_FILE, loadOrCreateBackupKey } from '../src/install/backup-key.js'
import { Installer } from '../src/install/installer.js'
import { promoteStaged, stageVersion, versionDir } from '../src/install/stage.js'
import { readCurrent, switchCurrent } from '../src/install/switch.js'
import { INSTALL_STEPS } from '../src/install/types.js'
import { fsyncDir } from '../src/util/fs.js'
import { pseudoRandomBytes } from '../src/util/pseudo-random.js'
import { section, summarize, table, wrap } from './report.js'
import type { ChunkStore } from '../src/content/chunk-store.js'
import type { PackageInstallConfig } from '../src/install/types.js'
import type { IndexFile, ReleaseIndex } from '../src/release/release-index.js'
import { intOpt } from './procs.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MiB = 1024 * 1024
const PKG = 'bench-app'
const VERSIONS = ['1.0.0', '1.1.0', '1.2.0'] as const
const HARD_LIMIT_MS = 10 * 60_000

const { values: opts } = parseArgs({
  options: {
    mib: { type: 'string', default: process.env.BENCH_MIB ?? '200' },
    runs: { type: 'string', default: '5' },
    swaps: { type: 'string', default: '200' },
    help: { type: 'boolean', default: false }
  }
})
if (opts.help === true) {
  process.stdout.write('node dist/bench/install.js [--mib 200 (or BENCH_MIB)] [--runs 5] [--swaps 200]\n')
  process.exit(0)
}
const FILES = intOpt('mib', opts.mib, 1, 4096)
const RUNS = intOpt('runs', opts.runs, 1, 50)
const SWAPS = intOpt('swaps', opts.swaps, 1, 100_000)
/** files each version rewrites: 1%, at least one */
const CHANGED = Math.max(1, Math.round(FILES / 100))

const tmp = mkdtempSync(join(tmpdir(), 'umesh-bench-install-'))
let cleaned = false
const cleanup = (): void => {
  if (cleaned) return
  cleaned = true
  rmSync(tmp, { recursive: true, force: true })
}
process.once('SIGINT', () => { cleanup(); process.exit(130) })
process.once('SIGTERM', () => { cleanup(); process.exit(143) })
process.on('exit', cleanup)
setTimeout(() => {
  process.stderr.write(`\n# the benchmark ran past its hard limit of ${HARD_LIMIT_MS / 1000} s: stopping\n`)
  cleanup()
  process.exit(1)
}, HARD_LIMIT_MS).unref()

// ---------------------------------------------------------------- output

function out (text = ''): void {
  process.stdout.write(text + '\n')
}

function progress (text: string): void {
  process.stderr.write(`# ${text}\n`)
}

function fmtMs (v: number | undefined): string {
  if (v == null || !Number.isFinite(v)) return '-'
  if (v < 1) return `${Math.round(v * 1000)} µs`
  if (v < 10) return `${v.toFixed(2)} ms`
  if (v < 100) return `${v.toFixed(1)} ms`
  return `${Math.round(v)} ms`
}

function mib (bytes: number | undefined): string {
  return bytes == null || !Number.isFinite(bytes) ? '-' : `${(bytes / MiB).toFixed(1)} MiB`
}

function rate (bytes: number, ms: number | undefined): string {
  return ms == null || !Number.isFinite(ms) || ms <= 0 ? '-' : `${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`
}

/** nearest-rank percentile */
function percentile (samples: number[], p: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
}

function med (samples: number[]): number {
  return summarize(samples)?.median ?? NaN
}

/** "median (min - max)" over rounds, or the one value */
function spread (samples: number[], f: (v: number) => string = fmtMs): string {
  const s = summarize(samples)
  if (s == null) return '-'
  return s.n === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)} - ${f(s.max)})`
}

function machine (): string[] {
  const cpu = cpus()
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (dirty !== '') commit += ' (with uncommitted changes)'
  } catch {}
  const fsTypes: Record<number, string> = { 0xEF53: 'ext2/3/4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683E: 'btrfs', 0x794C7630: 'overlayfs', 0x2FC12FC1: 'zfs' }
  let fsType = 'unknown'
  try {
    const t = Number(statfsSync(tmp).type)
    fsType = fsTypes[t] ?? `0x${t.toString(16)}`
  } catch {}
  return [
    `machine: ${cpu.length} CPU(s), ${cpu[0]?.model ?? 'unknown'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()} ${arch()}`,
    `node ${process.version}, update-mesh commit ${commit}; load average at start ${loadavg().map(l => l.toFixed(2)).join(' ')}`,
    `temp dir: ${tmp} (${fsType}; removed at the end); MiB = 2^20 bytes`
  ]
}

// ---------------------------------------------------------------- timing

/** writes back everything dirty on the temp folder's file system, so earlier writes' writeback does not land in the next figures */
function flush (): void {
  try {
    execFileSync('sync', ['-f', tmp], { stdio: 'ignore' })
  } catch {
    execFileSync('sync', { stdio: 'ignore' })
  }
}

async function timed (fn: () => unknown): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

function timedSync (fn: () => void): number {
  const start = performance.now()
  fn()
  return performance.now() - start
}

// ---------------------------------------------------------------- the package

function relPath (i: number): string {
  return `lib/d${i % 10}/part-${String(i).padStart(4, '0')}.bin`
}

function seed (file: number, version: number): number {
  return (version * 1_000_003 + file * 7919 + 1) >>> 0
}

/** the files version v (0, 1, 2) rewrites: 1% of them, spread out, other ones each version */
function changedBy (v: number): number[] {
  if (v === 0) return []
  const step = FILES / CHANGED
  return Array.from({ length: CHANGED }, (_, j) => Math.floor(j * step + (v - 1) * step / 2) % FILES)
}

function writeAll (fd: number, bytes: Uint8Array): void {
  let off = 0
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
}

async function indexFile (store: ChunkStore, file: string, rel: string): Promise<IndexFile> {
  const c = await store.chunkFile(file)
  return { path: rel, mode: 0o644, size: c.size, sha256: c.sha256, chunks: c.chunks.map(x => ({ cid: x.cid.toString(), size: x.size })) }
}

function releaseIndex (version: string, files: IndexFile[]): ReleaseIndex {
  return {
    format: 'umesh-release/1',
    package: PKG,
    version,
    scheme: 'semver',
    channel: 'stable',
    changelog: '',
    created: new Date().toISOString(),
    totalSize: files.reduce((n, f) => n + f.size, 0),
    files,
    requires: [],
    conflicts: [],
    requiredStep: false,
    critical: false
  }
}

/** writes 1.0.0's tree to srcDir (kept for the baselines) and each version's rewritten files beside it; chunks all into the store */
async function buildPackage (store: ChunkStore, srcDir: string): Promise<Map<string, ReleaseIndex>> {
  const indexes = new Map<string, ReleaseIndex>()
  let files: IndexFile[] = []
  for (let i = 0; i < FILES; i++) {
    const file = join(srcDir, relPath(i))
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, pseudoRandomBytes(MiB, seed(i, 0)))
    files.push(await indexFile(store, file, relPath(i)))
  }
  indexes.set(VERSIONS[0], releaseIndex(VERSIONS[0], files))
  for (let v = 1; v < VERSIONS.length; v++) {
    files = [...files]
    for (const i of changedBy(v)) {
      const file = join(tmp, `changes-${VERSIONS[v]}`, relPath(i))
      mkdirSync(dirname(file), { recursive: true })
      writeFileSync(file, pseudoRandomBytes(MiB, seed(i, v)))
      files[i] = await indexFile(store, file, relPath(i))
    }
    indexes.set(VERSIONS[v], releaseIndex(VERSIONS[v], files))
    rmSync(join(tmp, `changes-${VERSIONS[v]}`), { recursive: true, force: true })
  }
  return indexes
}

// ---------------------------------------------------------------- disk

interface Usage { real: number, apparent: number, paths: number, inodes: number }

/** real bytes: st.blocks x 512 over unique inodes (files, folders, links); apparent: st.size over every path */
function usage (dir: string): Usage {
  const seen = new Set<string>()
  const u: Usage = { real: 0, apparent: 0, paths: 0, inodes: 0 }
  const visit = (path: string): void => {
    const st = lstatSync(path, { bigint: true })
    u.paths++
    if (!st.isDirectory()) u.apparent += Number(st.size)
    const key = `${st.dev}:${st.ino}`
    if (!seen.has(key)) {
      seen.add(key)
      u.inodes++
      u.real += Number(st.blocks) * 512
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name))
  }
  visit(dir)
  return u
}

function du (dir: string): number {
  try {
    return Number(execFileSync('du', ['-s', '-B1', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s/)[0])
  } catch {
    return NaN
  }
}

/** copies a tree file by file with read + write (never a link, a reflink or copy_file_range); fsync per file when asked */
function copyPlain (from: string, to: string, fsync: boolean): void {
  const dirs: string[] = []
  const walk = (src: string, dst: string): void => {
    mkdirSync(dst, { recursive: true })
    dirs.push(dst)
    for (const name of readdirSync(src).sort()) {
      const s = join(src, name)
      const d = join(dst, name)
      const st = lstatSync(s)
      if (st.isDirectory()) walk(s, d)
      else {
        const bytes = readFileSync(s)
        const fd = openSync(d, 'wx', st.mode & 0o7777)
        try {
          writeAll(fd, bytes)
          if (fsync) fsyncSync(fd)
        } finally {
          closeSync(fd)
        }
      }
    }
  }
  walk(from, to)
  if (fsync) for (const d of dirs.reverse()) fsyncDir(d)
}

function listFiles (dir: string, rel = ''): string[] {
  const found: string[] = []
  for (const name of readdirSync(rel === '' ? dir : join(dir, rel)).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`
    if (lstatSync(join(dir, r)).isDirectory()) found.push(...listFiles(dir, r))
    else found.push(r)
  }
  return found
}

// ---------------------------------------------------------------- 1. symlink swap

interface SwapResult { swap: number[], bare: number[], fsync: number[] }

function swapBench (): SwapResult {
  const root = join(tmp, 'swap')
  for (const v of VERSIONS.slice(0, 2)) mkdirSync(versionDir(root, v), { recursive: true })
  const result: SwapResult = { swap: [], bare: [], fsync: [] }
  const bareTmp = join(root, '.bare-tmp')
  const bareLink = join(root, 'bare')
  const once = (i: number, keep: boolean): void => {
    const v = VERSIONS[i % 2]
    const a = timedSync(() => { switchCurrent(root, v) })
    const b = timedSync(() => { symlinkSync(`versions/${v}`, bareTmp); renameSync(bareTmp, bareLink) })
    const c = timedSync(() => { fsyncDir(root) })
    if (keep) { result.swap.push(a); result.bare.push(b); result.fsync.push(c) }
  }
  for (let i = 0; i < 20; i++) once(i, false)
  for (let i = 0; i < SWAPS; i++) once(i, true)
  if (readCurrent(root) !== VERSIONS[(SWAPS - 1) % 2]) throw new Error('the swap benchmark left current pointing elsewhere than its last switch')
  rmSync(root, { recursive: true, force: true })
  return result
}

// ---------------------------------------------------------------- 2. staging

interface StageRound { stageFull: number, stageLinked: number, linkedCounts: string, cp: number, copyFsync: number, hashRead: number, linkOnly: number }

async function stageRound (store: ChunkStore, srcDir: string, indexes: Map<string, ReleaseIndex>): Promise<StageRound> {
  const scratch = join(tmp, 'scratch')
  const v1 = indexes.get(VERSIONS[0])!
  const v2 = indexes.get(VERSIONS[1])!
  const files = listFiles(srcDir)
  mkdirSync(scratch, { recursive: true })

  const cp = await timed(() => execFileSync('cp', ['-r', srcDir, join(scratch, 'cp')], { stdio: 'ignore' }))
  rmSync(join(scratch, 'cp'), { recursive: true, force: true })

  const copyFsync = await timed(() => { copyPlain(srcDir, join(scratch, 'copy'), true) })
  rmSync(join(scratch, 'copy'), { recursive: true, force: true })

  const hashRead = await timed(() => { for (const f of files) createHash('sha256').update(readFileSync(join(srcDir, f))).digest('hex') })

  const root = join(scratch, 'root')
  const stageFull = await timed(async () => { await stageVersion({ index: v1, store, installRoot: root, stagingName: '.staging-full' }) })
  promoteStaged(root, '.staging-full', VERSIONS[0])
  let linkedCounts = ''
  const stageLinked = await timed(async () => {
    const r = await stageVersion({ index: v2, store, installRoot: root, stagingName: '.staging-linked', previous: { dir: versionDir(root, VERSIONS[0]), index: v1 } })
    linkedCounts = `${r.written} written, ${r.linked} linked`
  })

  const links = join(scratch, 'links')
  const from = versionDir(root, VERSIONS[0])
  const linkOnly = await timed(() => {
    for (const f of files) {
      const target = join(links, f)
      mkdirSync(dirname(target), { recursive: true })
      linkSync(join(from, f), target)
    }
  })
  rmSync(scratch, { recursive: true, force: true })
  return { stageFull, stageLinked, linkedCounts, cp, copyFsync, hashRead, linkOnly }
}

// ---------------------------------------------------------------- 3-5. installer

interface InstallTiming { total: number, steps: Map<string, number>, stageLine: string }
interface InstallRound {
  installs: InstallTiming[]
  rollbackState: number
  rollbackPlain: number
  restored: boolean
  currents: string[]
  disk?: { versions: Usage, du: number, copies: Usage[], backups: Usage | undefined, store: Usage }
}

async function installRound (r: number, store: ChunkStore, indexes: Map<string, ReleaseIndex>, measureDisk: boolean): Promise<InstallRound> {
  const runDir = join(tmp, `round-${r}`)
  const installRoot = join(runDir, 'installs', PKG)
  const stateDir = join(runDir, 'state')
  mkdirSync(stateDir, { recursive: true })
  const settings = join(stateDir, 'settings.json')
  writeFileSync(join(stateDir, 'app.db'), pseudoRandomBytes(256 * 1024, 42))
  writeFileSync(settings, '{"written by": "1.0.0"}\n')

  const log: Array<{ at: number, line: string }> = []
  const config = (statePaths: string[]): PackageInstallConfig => ({ installRoot, keepVersions: 3, autoUpdate: false, hooks: { timeoutMs: 60_000 }, statePaths, encryptBackups: false, dependencies: 'ignore', minFreeMemory: 0, allowDowngrade: false })
  const base = {
    package: PKG,
    store,
    index: (v: string) => indexes.get(v),
    backupKey: () => loadOrCreateBackupKey(join(runDir, 'data', BACKUP_KEY_FILE)),
    logger: defaultLogger(),
    say: (line: string) => { log.push({ at: performance.now(), line }) }
  }
  const plain = new Installer({ ...base, config: config([]) })
  const withState = new Installer({ ...base, config: config([stateDir]) })

  const install = async (installer: Installer, version: string): Promise<InstallTiming> => {
    log.length = 0
    const t0 = performance.now()
    const result = await installer.install(version, { kind: 'upgrade' })
    const t1 = performance.now()
    if (result.entry?.outcome !== 'installed') throw new Error(`install of ${version}: outcome ${String(result.entry?.outcome)}`)
    const starts = INSTALL_STEPS.map(s => ({ s, at: log.find(l => l.line.startsWith(`${s}: `))?.at })).filter((x): x is { s: typeof INSTALL_STEPS[number], at: number } => x.at != null)
    const steps = new Map<string, number>()
    steps.set('(lock, recover, journal read)', (starts[0]?.at ?? t1) - t0)
    starts.forEach((x, i) => steps.set(x.s, (starts[i + 1]?.at ?? t1) - x.at))
    const stageLine = log.filter(l => l.line.startsWith('stage: ')).at(-1)?.line.slice('stage: '.length) ?? ''
    return { total: t1 - t0, steps, stageLine }
  }

  const installs = [
    await install(plain, VERSIONS[0]),
    await install(plain, VERSIONS[1]),
    await install(withState, VERSIONS[2])
  ]
  const currents = [readCurrent(installRoot) ?? '-']

  let disk: InstallRound['disk']
  if (measureDisk) {
    const versions = usage(join(installRoot, 'versions'))
    const copies: Usage[] = []
    for (const v of VERSIONS) {
      const copy = join(runDir, 'full-copy')
      copyPlain(versionDir(installRoot, v), copy, false)
      copies.push(usage(copy))
      rmSync(copy, { recursive: true, force: true })
    }
    const backups = existsSync(join(installRoot, 'backups')) ? usage(join(installRoot, 'backups')) : undefined
    disk = { versions, du: du(join(installRoot, 'versions')), copies, backups, store: usage(store.path) }
  }

  // 1.2.0 "ran" and changed its state; the rollback puts 1.1.0 and the saved state back
  writeFileSync(settings, '{"written by": "1.2.0"}\n')
  const rollbackState = await timed(async () => {
    const e = await withState.rollback()
    if (e.outcome !== 'rolled-back') throw new Error(`rollback from ${VERSIONS[2]}: outcome ${e.outcome} (${e.reason})`)
  })
  const restored = readFileSync(settings, 'utf8').includes('1.0.0')
  currents.push(readCurrent(installRoot) ?? '-')
  const rollbackPlain = await timed(async () => {
    const e = await plain.rollback()
    if (e.outcome !== 'rolled-back') throw new Error(`rollback from ${VERSIONS[1]}: outcome ${e.outcome} (${e.reason})`)
  })
  currents.push(readCurrent(installRoot) ?? '-')
  rmSync(runDir, { recursive: true, force: true })
  return { installs, rollbackState, rollbackPlain, restored, currents, ...(disk != null ? { disk } : {}) }
}

// ---------------------------------------------------------------- main

async function main (): Promise<void> {
  const t0 = performance.now()
  out('update-mesh install benchmark (figures only; nothing is asserted)')
  out(`command: node dist/bench/install.js --mib ${FILES} --runs ${RUNS} --swaps ${SWAPS}   (npm run bench:install = npm run build && node dist/bench/install.js; BENCH_MIB sets --mib)`)
  for (const line of machine()) out(line)

  progress(`writing and chunking the package: ${FILES} files of 1 MiB, and ${CHANGED} rewritten file(s) for each of ${VERSIONS.slice(1).join(', ')}`)
  const store = await openChunkStore(join(tmp, 'chunks'), { fsync: false })
  const srcDir = join(tmp, 'source')
  const tBuild = performance.now()
  const indexes = await buildPackage(store, srcDir)
  const pkgSize = indexes.get(VERSIONS[0])!.totalSize
  out(`package: ${PKG}, ${FILES} files of 1 MiB (${mib(pkgSize)}), mode 644, in 10 folders; ${VERSIONS[1]} and ${VERSIONS[2]} each rewrite ${CHANGED} file(s) (${(CHANGED / FILES * 100).toFixed(1)}%; other ones each time); chunked into a chunk store (FastCDC defaults) in ${fmtMs(performance.now() - tBuild)}, not measured below. Every read the benchmark makes is served from the page cache (the data was just written, RAM is ample); fsync reaches the disk. The file system is synced (sync -f) before section 1 and before each round's staging and installs, so writeback of earlier writes does not land in the figures.`)

  progress(`1. symlink swap: ${SWAPS} switchCurrent calls, interleaved with symlink+rename and fsync alone`)
  flush()
  const swap = swapBench()

  const stages: StageRound[] = []
  const rounds: InstallRound[] = []
  for (let r = 0; r < RUNS; r++) {
    progress(`round ${r + 1}/${RUNS}: staging and baselines`)
    flush()
    stages.push(await stageRound(store, srcDir, indexes))
    progress(`round ${r + 1}/${RUNS}: installs ${VERSIONS.join(', ')} and two rollbacks${r === 0 ? ', disk usage' : ''}`)
    flush()
    rounds.push(await installRound(r, store, indexes, r === 0))
  }

  // ---- 1
  out(section('1. Switch: the symlink swap alone (switchCurrent between two version folders)'))
  out(wrap(`${SWAPS} swaps (after 20 not counted), each followed by its parts done alone on another link in the same folder: symlink() + rename() of a temporary link over a second link, then open + fsync + close of the install root (which commits that rename, as switchCurrent's fsync commits its own). switchCurrent also lstats the target and the link and draws 4 random bytes for the temporary name.`))
  out()
  const swapRow = (label: string, s: number[]): string[] => [label, fmtMs(med(s)), fmtMs(percentile(s, 90)), fmtMs(percentile(s, 99)), fmtMs(Math.max(...s))]
  out(table(['what', 'median', 'p90', 'p99', 'max'], [
    swapRow('switchCurrent (symlink, rename, fsync of the root)', swap.swap),
    swapRow('baseline: symlink + rename, no fsync', swap.bare),
    swapRow('baseline: fsync of the install root alone, after it', swap.fsync)
  ]))

  // ---- 2
  out(section(`2. Staging throughput (stageVersion alone; median (min - max) of ${RUNS} rounds)`))
  out(wrap(`stageVersion of the whole package into a fresh staging folder: every file written from its chunks (each chunk read from the store and its CID checked), hashed, fsynced, folders fsynced. MiB/s are of the package size (${mib(pkgSize)}). Baselines are measured in the same rounds over ${VERSIONS[0]}'s source tree.`))
  out()
  const stageRow = (label: string, pick: (s: StageRound) => number): string[] => {
    const v = stages.map(pick)
    return [label, spread(v), rate(pkgSize, med(v))]
  }
  out(table(['what', 'time', 'throughput'], [
    stageRow(`stageVersion ${VERSIONS[0]}, nothing on disk (all written)`, s => s.stageFull),
    stageRow(`stageVersion ${VERSIONS[1]} beside ${VERSIONS[0]} (${stages[0]?.linkedCounts ?? '-'})`, s => s.stageLinked),
    stageRow('baseline: cp -r of the source tree (no fsync)', s => s.cp),
    stageRow('baseline: read + write + fsync per file (no hashing)', s => s.copyFsync),
    stageRow('baseline: read + sha256 of every file', s => s.hashRead),
    stageRow('baseline: one link() per file (no hashing)', s => s.linkOnly)
  ]))

  // ---- 3
  const changed = `${+(CHANGED / FILES * 100).toFixed(1)}%`
  const labels = [`${VERSIONS[0]} (first install)`, `${VERSIONS[0]} -> ${VERSIONS[1]} (${changed} changed)`, `${VERSIONS[1]} -> ${VERSIONS[2]} (${changed}, + state path)`]
  out(section(`3. End to end: Installer.install(), no activate hook, no health check (median (min - max) of ${RUNS} rounds)`))
  out(wrap(`Wall time of installer.install(v, { kind: 'upgrade' }) on a fresh install root each round: ${labels.join('; ')}. The last one saves a state path (a folder with a 256 KiB file and a 24-byte file) as a rollback point, for section 4; the first two have no state paths. Step times are from the installer's progress lines (each line is said when its step starts, after the journal write that opens it), so a step's time includes the journal write (atomic, fsynced) that opens the next one.`))
  out()
  out(table(['install', 'total', 'throughput (package size)', 'stage reported'], rounds[0].installs.map((_, i) => {
    const v = rounds.map(r => r.installs[i].total)
    return [labels[i], spread(v), rate(pkgSize, med(v)), rounds[0].installs[i].stageLine]
  })))
  out()
  const stepNames = [...rounds[0].installs[0].steps.keys()]
  out(table(['step (median)', ...VERSIONS], stepNames.map(s => [s, ...rounds[0].installs.map((_, i) => fmtMs(med(rounds.map(r => r.installs[i].steps.get(s) ?? NaN))))])))

  // ---- 4
  out(section(`4. Rollback: Installer.rollback() (median (min - max) of ${RUNS} rounds)`))
  out(wrap(`After the three installs: rollback from ${VERSIONS[2]} to ${VERSIONS[1]}, which restores the state path from ${VERSIONS[2]}'s rollback point (its 24-byte file was changed first), then rollback from ${VERSIONS[1]} to ${VERSIONS[0]} (that install took no rollback point: switch back and journal only). No hooks, no migrations; each includes taking the lock and recover(). current after the installs and each rollback, round 1: ${rounds[0].currents.join(' -> ')}; state restored: ${rounds.every(r => r.restored) ? 'yes, every round' : `no, in ${rounds.filter(r => !r.restored).length} round(s)`}.`))
  out()
  out(table(['rollback', 'time'], [
    [`${VERSIONS[2]} -> ${VERSIONS[1]}, 1 state path restored (2 files, 256 KiB)`, spread(rounds.map(r => r.rollbackState))],
    [`${VERSIONS[1]} -> ${VERSIONS[0]}, no rollback point`, spread(rounds.map(r => r.rollbackPlain))]
  ]))

  // ---- 5
  const d = rounds[0].disk!
  const copies = d.copies.reduce((n, c) => n + c.real, 0)
  out(section(`5. Disk: three versions installed (${VERSIONS.join(', ')}; keepVersions 3), round 1`))
  out(wrap(`Real bytes = st.blocks x 512 summed over unique inodes (files and folders) under versions/; unchanged files are hard links to one inode. Three full copies: each version's tree copied file by file with read + write (no links, no reflinks), measured the same way, one at a time. du -s -B1 (counts each inode once) as a cross-check.`))
  out()
  out(table(['what', 'bytes', 'MiB', 'vs hard links'], [
    ['versions/ with hard links (real)', String(d.versions.real), mib(d.versions.real), '1.00x'],
    ['  du -s -B1 versions/', String(d.du), mib(d.du), `${(d.du / d.versions.real).toFixed(2)}x`],
    ['  apparent (file sizes, each path counted)', String(d.versions.apparent), mib(d.versions.apparent), `${(d.versions.apparent / d.versions.real).toFixed(2)}x`],
    ['baseline: three full copies (real)', String(copies), mib(copies), `${(copies / d.versions.real).toFixed(2)}x`],
    ['baseline: 3 x package size', String(3 * pkgSize), mib(3 * pkgSize), `${(3 * pkgSize / d.versions.real).toFixed(2)}x`]
  ]))
  out()
  out(wrap(`versions/: ${d.versions.paths} paths, ${d.versions.inodes} inodes (3 x ${FILES} files + folders; ${2 * CHANGED} files rewritten since ${VERSIONS[0]}). Saving: ${mib(copies - d.versions.real)} (${((1 - d.versions.real / copies) * 100).toFixed(1)}% of three full copies). Not counted above: backups/ (the rollback point of ${VERSIONS[2]}'s install) ${mib(d.backups?.real)}; the node's chunk store, which holds every version's chunks once, ${mib(d.store.real)}.`))

  out(`\nbenchmark wall time ${((performance.now() - t0) / 1000).toFixed(1)} s; load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
}

let code = 0
try {
  await main()
} catch (err) {
  process.stderr.write(`benchmark failed: ${(err as Error).stack ?? String(err)}\n`)
  code = 1
} finally {
  cleanup()
}
process.exit(code)
