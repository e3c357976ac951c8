/**
 * Migration scripts a release ships: `migrations/<n>-<name>.up` and,
 * optionally, `.down` (n a whole number, name [a-z0-9._-]+), executable
 * files run in order of n, then name. The ledger (`migrations.json` in the
 * install root, written atomically) records each migration applied, right
 * after it succeeds, so a migration runs up once however many times an
 * install is retried or resumed, and down only if it ran up.
 *
 * Scripts run without a shell, with UMESH_OLD_VERSION, UMESH_NEW_VERSION,
 * UMESH_OLD_DIR, UMESH_NEW_DIR and UMESH_MIGRATION in their environment and
 * the hooks' time limit. A cancelled install stops the script under way (its
 * process group is killed) and rethrows the signal's reason: the script is
 * not recorded as applied, and no later one runs.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { UmeshError } from '../errors.js'
import { writeFileAtomic } from '../util/fs.js'
import { describeRun, runCommand } from './run-command.js'
import type { RunResult } from './run-command.js'

export const LEDGER_FILE = 'migrations.json'
export const MIGRATIONS_DIR = 'migrations'
const SCRIPT = /^(\d{1,15})-([a-z0-9._-]+)\.(up|down)$/
const ID = /^\d{1,15}-[a-z0-9._-]+$/

export interface Migration {
  /** `<n>-<name>` */
  id: string
  n: number
  name: string
  /** absolute path of the `up` script */
  up: string
  /** absolute path of the `down` script, when shipped */
  down?: string
}

export interface LedgerEntry {
  id: string
  /** the version whose install applied it */
  version: string
  at: string
}

export interface Ledger {
  applied: LedgerEntry[]
}

export class MigrationLedgerError extends UmeshError {
  override readonly name = 'MigrationLedgerError'
}

export class MigrationFailedError extends UmeshError {
  override readonly name = 'MigrationFailedError'
  constructor (readonly id: string, readonly direction: 'up' | 'down', message: string, readonly result?: RunResult) {
    super(message)
  }
}

function isExecutableFile (path: string): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false })
  return st != null && st.isFile() && (st.mode & 0o111) !== 0
}

/** the migrations `versionDir` ships, in the order they run; only regular executable files count */
export function listMigrations (versionDir: string): Migration[] {
  const dir = join(versionDir, MIGRATIONS_DIR)
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return []
    throw err
  }
  const found = new Map<string, { n: number, name: string, up?: string, down?: string }>()
  for (const file of names) {
    const m = SCRIPT.exec(file)
    if (m == null) continue
    const path = join(dir, file)
    if (!isExecutableFile(path)) continue
    const id = `${m[1]!}-${m[2]!}`
    const entry = found.get(id) ?? { n: Number(m[1]), name: m[2]! }
    if (m[3] === 'up') entry.up = path
    else entry.down = path
    found.set(id, entry)
  }
  const list: Migration[] = []
  for (const [id, e] of found) {
    if (e.up == null) continue
    list.push({ id, n: e.n, name: e.name, up: e.up, ...(e.down != null ? { down: e.down } : {}) })
  }
  return list.sort((a, b) => a.n - b.n || (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

export function readLedger (installRoot: string): Ledger {
  const file = join(installRoot, LEDGER_FILE)
  let raw: any
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { applied: [] }
    throw new MigrationLedgerError(`${file} is not readable JSON (${(err as Error).message}); it is written atomically, so something else changed it: restore it from a backup (it lists the migrations applied)`)
  }
  if (!Array.isArray(raw?.applied) || !raw.applied.every((a: any) => typeof a?.id === 'string' && ID.test(a.id) && typeof a.version === 'string' && typeof a.at === 'string')) {
    throw new MigrationLedgerError(`${file} is not a migration ledger ({"applied": [{"id", "version", "at"}]}); restore it from a backup`)
  }
  return { applied: raw.applied.map((a: LedgerEntry) => ({ id: a.id, version: a.version, at: a.at })) }
}

function writeLedger (installRoot: string, ledger: Ledger): void {
  mkdirSync(installRoot, { recursive: true })
  writeFileAtomic(join(installRoot, LEDGER_FILE), JSON.stringify(ledger, null, 1) + '\n', 0o644)
}

interface RunContext {
  oldVersion: string | null
  newVersion: string
  oldDir: string | null
  newDir: string
  timeoutMs: number
  env?: Record<string, string>
  /** stops the running script (its process group is killed) and the migrations after it */
  signal?: AbortSignal
}

async function runScript (id: string, direction: 'up' | 'down', script: string, cwd: string, ctx: RunContext): Promise<void> {
  const env = {
    ...ctx.env,
    UMESH_OLD_VERSION: ctx.oldVersion ?? '',
    UMESH_NEW_VERSION: ctx.newVersion,
    UMESH_OLD_DIR: ctx.oldDir ?? '',
    UMESH_NEW_DIR: ctx.newDir,
    UMESH_MIGRATION: id
  }
  ctx.signal?.throwIfAborted()
  const result = await runCommand([script], { cwd, env, timeoutMs: ctx.timeoutMs, signal: ctx.signal })
  // cancelled: the script was stopped, not failed; the ledger does not record it as applied
  if (result.aborted) ctx.signal?.throwIfAborted()
  if (result.code === 0) return
  const tail = result.stderr.trim().split('\n').slice(-5).join('\n')
  throw new MigrationFailedError(id, direction, `migration ${id} (${direction}) failed: ${describeRun([script], result)}${tail !== '' ? `\n--- its stderr ends with ---\n${tail}` : ''}\nfix the script or the data it migrates and install again; state saved before the install is in its rollback point`, result)
}

export interface RunUpOptions extends RunContext {
  installRoot: string
  /** the version folder whose migrations run */
  versionDir: string
  /** called before each migration runs */
  onRun?: (id: string) => void
}

/** runs every `up` of versionDir the ledger does not list, in order, recording each; returns the ids run */
export async function runUp (opts: RunUpOptions): Promise<string[]> {
  const ran: string[] = []
  for (const m of listMigrations(opts.versionDir)) {
    const ledger = readLedger(opts.installRoot)
    if (ledger.applied.some(a => a.id === m.id)) continue
    opts.onRun?.(m.id)
    await runScript(m.id, 'up', m.up, opts.newDir, opts)
    ledger.applied.push({ id: m.id, version: opts.newVersion, at: new Date().toISOString() })
    writeLedger(opts.installRoot, ledger)
    ran.push(m.id)
  }
  return ran
}

export interface RunDownOptions extends RunContext {
  installRoot: string
  /** migrations to undo, in the order they were applied; they are undone last first */
  ids: string[]
  /** the version folder that shipped them (its `.down` scripts run, with it as the working folder) */
  scriptsDir: string
  onRun?: (id: string) => void
}

/** runs `down` for each id the ledger lists, in reverse order, removing each from the ledger; returns the ids run */
export async function runDown (opts: RunDownOptions): Promise<string[]> {
  const ran: string[] = []
  for (const id of [...opts.ids].reverse()) {
    if (!ID.test(id)) throw new MigrationFailedError(id, 'down', `${JSON.stringify(id)} is not a migration id (<n>-<name>); nothing was run for it`)
    const ledger = readLedger(opts.installRoot)
    if (!ledger.applied.some(a => a.id === id)) continue
    const script = join(opts.scriptsDir, MIGRATIONS_DIR, `${id}.down`)
    if (!isExecutableFile(script)) {
      throw new MigrationFailedError(id, 'down', `migration ${id} has no .down script (no executable ${script}), so it cannot be undone by a script; restore from the rollback point`)
    }
    opts.onRun?.(id)
    await runScript(id, 'down', script, opts.scriptsDir, opts)
    ledger.applied = ledger.applied.filter(a => a.id !== id)
    writeLedger(opts.installRoot, ledger)
    ran.push(id)
  }
  return ran
}
