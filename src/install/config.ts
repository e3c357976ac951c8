/**
 * The per-package install config in the node config (`packages`), parsed
 * strictly: every field is named in its error, unknown keys are refused.
 *
 *   "packages": {
 *     "my-app": {
 *       "installRoot": "/opt/my-app",            default <dataDir>/installs/my-app
 *       "keepVersions": 3,
 *       "autoUpdate": true,
 *       "health": { "http": "http://127.0.0.1:8080/health", "timeoutMs": 5000,
 *                   "retries": 3, "intervalMs": 2000, "graceMs": 1000 },
 *       "hooks": { "activate": ["systemctl", "restart", "my-app"], "timeoutMs": 60000 },
 *       "statePaths": ["/etc/my-app/config.toml", "/var/lib/my-app/db.sqlite"],
 *       "encryptBackups": false,
 *       "dependencies": "install",
 *       "minFreeMemory": 33554432
 *     }
 *   }
 *
 * A health check is one of `{"command": [argv]}`, `{"http": "url"}` or
 * `{"tcp": "host:port"}`. A followed package without an entry here is only
 * held, never installed: where it goes and how to tell it works are the
 * operator's to say.
 */
import { isAbsolute, normalize } from 'node:path'
import { ConfigError } from '../errors.js'
import type { DependencyPolicy, HealthCheck, HealthConfig, PackageInstallConfig } from './types.js'

/** a package's entry as parsed from the config; installRoot is resolved against the data dir later */
export type PackageEntry = Omit<PackageInstallConfig, 'installRoot'> & { installRoot: string | null }

const PACKAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/
const POLICIES: DependencyPolicy[] = ['install', 'require', 'ignore']
export const DEFAULT_KEEP_VERSIONS = 3
export const DEFAULT_MIN_FREE_MEMORY = 32 * 1024 * 1024

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function onlyKeys (obj: Record<string, unknown>, allowed: string[], field: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ConfigError(`${field}.${key}`, `unknown key; expected one of ${allowed.join(', ')}`)
  }
}

function int (v: unknown, field: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(field, `expected an integer from ${min} to ${max}, found ${JSON.stringify(v)}`)
  return v
}

function bool (v: unknown, field: string, fallback: boolean): boolean {
  if (v === undefined) return fallback
  if (typeof v !== 'boolean') throw new ConfigError(field, `expected true or false, found ${JSON.stringify(v)}`)
  return v
}

function argv (v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 64 || !v.every(s => typeof s === 'string' && s.length > 0 && s.length < 4096)) {
    throw new ConfigError(field, 'expected a command as a non-empty list of strings, program first (e.g. ["systemctl", "restart", "my-app"]); no shell is involved')
  }
  return v
}

function absolute (v: unknown, field: string): string {
  if (typeof v !== 'string' || !isAbsolute(v) || v.includes('\0')) throw new ConfigError(field, `expected an absolute path, found ${JSON.stringify(v)}`)
  const n = normalize(v)
  if (n === '/') throw new ConfigError(field, 'the file system root cannot be an install root or a state path')
  return n.replace(/\/+$/, '')
}

function healthCheck (raw: Record<string, unknown>, field: string): HealthCheck {
  const kinds = ['command', 'http', 'tcp'].filter(k => raw[k] !== undefined)
  if (kinds.length !== 1) throw new ConfigError(field, `expected exactly one of "command", "http" or "tcp", found ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`)
  if (raw.command !== undefined) return { type: 'command', command: argv(raw.command, `${field}.command`) }
  if (raw.http !== undefined) {
    let url: URL | undefined
    try { url = new URL(String(raw.http)) } catch {}
    if (typeof raw.http !== 'string' || url == null || !['http:', 'https:'].includes(url.protocol)) throw new ConfigError(`${field}.http`, `expected an http:// or https:// URL, found ${JSON.stringify(raw.http)}`)
    return { type: 'http', url: raw.http }
  }
  const m = typeof raw.tcp === 'string' ? /^(.+):(\d{1,5})$/.exec(raw.tcp) : null
  const port = m == null ? 0 : Number(m[2])
  if (m == null || port < 1 || port > 65535) throw new ConfigError(`${field}.tcp`, `expected "host:port", found ${JSON.stringify(raw.tcp)}`)
  return { type: 'tcp', host: m[1].replace(/^\[(.*)\]$/, '$1'), port }
}

function health (raw: unknown, field: string): HealthConfig | undefined {
  if (raw === undefined) return undefined
  if (!isObject(raw)) throw new ConfigError(field, 'expected an object such as {"http": "http://127.0.0.1:8080/health"}')
  onlyKeys(raw, ['command', 'http', 'tcp', 'timeoutMs', 'retries', 'intervalMs', 'graceMs'], field)
  return {
    check: healthCheck(raw, field),
    timeoutMs: int(raw.timeoutMs, `${field}.timeoutMs`, 100, 600_000, 5_000),
    retries: int(raw.retries, `${field}.retries`, 0, 100, 3),
    intervalMs: int(raw.intervalMs, `${field}.intervalMs`, 0, 600_000, 2_000),
    graceMs: int(raw.graceMs, `${field}.graceMs`, 0, 3_600_000, 0)
  }
}

function entry (raw: unknown, field: string): PackageEntry {
  if (!isObject(raw)) throw new ConfigError(field, 'expected an object with the package\'s install settings')
  onlyKeys(raw, ['installRoot', 'keepVersions', 'autoUpdate', 'health', 'hooks', 'statePaths', 'encryptBackups', 'dependencies', 'minFreeMemory', 'allowDowngrade'], field)
  let hooks = { timeoutMs: 60_000 } as PackageEntry['hooks']
  if (raw.hooks !== undefined) {
    if (!isObject(raw.hooks)) throw new ConfigError(`${field}.hooks`, 'expected an object such as {"activate": ["systemctl", "restart", "my-app"]}')
    onlyKeys(raw.hooks, ['activate', 'timeoutMs'], `${field}.hooks`)
    hooks = { timeoutMs: int(raw.hooks.timeoutMs, `${field}.hooks.timeoutMs`, 100, 3_600_000, 60_000) }
    if (raw.hooks.activate !== undefined) hooks.activate = argv(raw.hooks.activate, `${field}.hooks.activate`)
  }
  const statePaths = raw.statePaths === undefined ? [] : raw.statePaths
  if (!Array.isArray(statePaths) || statePaths.length > 256) throw new ConfigError(`${field}.statePaths`, 'expected a list of at most 256 absolute paths')
  const dependencies = raw.dependencies ?? 'install'
  if (!POLICIES.includes(dependencies as DependencyPolicy)) throw new ConfigError(`${field}.dependencies`, `expected one of ${POLICIES.join(', ')}, found ${JSON.stringify(dependencies)}`)
  const healthConfig = health(raw.health, `${field}.health`)
  return {
    installRoot: raw.installRoot === undefined ? null : absolute(raw.installRoot, `${field}.installRoot`),
    keepVersions: int(raw.keepVersions, `${field}.keepVersions`, 1, 100, DEFAULT_KEEP_VERSIONS),
    autoUpdate: bool(raw.autoUpdate, `${field}.autoUpdate`, true),
    ...(healthConfig != null ? { health: healthConfig } : {}),
    hooks,
    statePaths: statePaths.map((p, i) => absolute(p, `${field}.statePaths[${i}]`)),
    encryptBackups: bool(raw.encryptBackups, `${field}.encryptBackups`, false),
    dependencies: dependencies as DependencyPolicy,
    minFreeMemory: int(raw.minFreeMemory, `${field}.minFreeMemory`, 0, Number.MAX_SAFE_INTEGER, DEFAULT_MIN_FREE_MEMORY),
    allowDowngrade: bool(raw.allowDowngrade, `${field}.allowDowngrade`, false)
  }
}

/** the schema parser for `packages`: an object from a file, or JSON text from the environment or a flag */
export function parsePackages (value: unknown, field: string): Record<string, PackageEntry> {
  let raw = value
  if (typeof value === 'string') {
    try {
      raw = JSON.parse(value)
    } catch (err) {
      throw new ConfigError(field, `expected a JSON object, found text that is not JSON (${(err as Error).message})`)
    }
  }
  if (!isObject(raw)) throw new ConfigError(field, 'expected an object of package name to install settings')
  const out: Record<string, PackageEntry> = {}
  for (const [name, v] of Object.entries(raw)) {
    if (!PACKAGE_NAME.test(name)) throw new ConfigError(`${field}.${name}`, 'not a package name (lowercase letters, digits, . _ -, at most 64)')
    out[name] = entry(v, `${field}.${name}`)
  }
  const roots = new Map<string, string>()
  for (const [name, e] of Object.entries(out)) {
    if (e.installRoot == null) continue
    const other = roots.get(e.installRoot)
    if (other != null) throw new ConfigError(`${field}.${name}.installRoot`, `${e.installRoot} is also the install root of ${other}; give each package its own`)
    roots.set(e.installRoot, name)
  }
  return out
}

/** the install settings of one package, with its install root resolved; undefined when the package has no entry */
export function packageInstallConfig (packages: Record<string, PackageEntry>, pkg: string, defaultRoot: string): PackageInstallConfig | undefined {
  const e = packages[pkg]
  if (e == null) return undefined
  return { ...e, installRoot: e.installRoot ?? defaultRoot }
}
