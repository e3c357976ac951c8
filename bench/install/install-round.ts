/**
 * Parts 3 and 4 of the install benchmark, one round on a fresh install root:
 * Installer.install of each version in turn (the last with a state path
 * saved as a rollback point), each step timed from the installer's progress
 * lines; the disk use of part 5 when asked; then two rollbacks.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { defaultLogger } from '@libp2p/logger'
import { BACKUP_KEY_FILE, loadOrCreateBackupKey } from '../../src/install/backup-key.js'
import { Installer } from '../../src/install/installer.js'
import { readCurrent } from '../../src/install/switch.js'
import { INSTALL_STEPS } from '../../src/install/types.js'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import { installedDisk } from './disk.js'
import { PKG, VERSIONS } from './options.js'
import { timed } from './timing.js'
import type { InstalledDisk } from './disk.js'
import type { ChunkStore } from '../../src/content/chunk-store.js'
import type { PackageInstallConfig } from '../../src/install/types.js'
import type { ReleaseIndex } from '../../src/release/release-index.js'

export interface InstallTiming { total: number, steps: Map<string, number>, stageLine: string }
export interface InstallRound {
  installs: InstallTiming[]
  rollbackState: number
  rollbackPlain: number
  restored: boolean
  currents: string[]
  disk?: InstalledDisk
}

export async function installRound (tmp: string, r: number, store: ChunkStore, indexes: Map<string, ReleaseIndex>, measureDisk: boolean): Promise<InstallRound> {
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
  const disk = measureDisk ? installedDisk(installRoot, runDir, store) : undefined

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
