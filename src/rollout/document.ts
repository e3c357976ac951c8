/**
 * Rollout specs and the signed rollout document, parsed strictly.
 *
 * The CLI flags:
 *
 *   --waves "canary:1,10%,50%,100%"
 *       comma-separated waves, each `[name:]N` (a count of nodes the
 *       coordinator picks) or `[name:]P%` (a cumulative share of the fleet by
 *       hash, 0 < P <= 100). An unnamed wave is named `wave-<position>`
 *       (1-based, counting every item). Percentages strictly increase, the
 *       last wave is 100% (so every node is in some wave), at most 16 waves,
 *       names are [a-z0-9-]{1,32} and unique. Count waves may stand anywhere
 *       but last, and hold 1 to 10000 nodes.
 *   --gate "success>=0.95,soak=60s"
 *       both keys optional, in any order: the share of a wave's nodes that
 *       must be healthy (0..1, default 0.95) and how long the wave must stay
 *       unchanged before it is judged (Nms, Ns, Nm or Nh, at most 7 days,
 *       default 60s).
 *   --abort "failures>=0.1"
 *       the share of a wave's nodes failed (0..1) at which the rollout halts
 *       and asks for rollback; 0 halts at the first failure.
 *   --select "region=eu-west,hw in (revB,revC),!legacy"
 *       a label selector (selector.ts); the document carries it as
 *       `selector` in canonical form, absent when not given, so documents
 *       without one read as before.
 *
 * The document (`rollouts/<package>.json`, a target of the `rollouts` role)
 * is refused as a whole when any field is missing, unknown, of the wrong
 * type or out of range, naming the field: a node acts on nothing it has not
 * checked, signed or not.
 */
import { randomBytes } from 'node:crypto'
import { UmeshError } from '../errors.js'
import { PACKAGE_NAME } from '../release/release-index.js'
import { ROLLOUT_FORMAT } from './types.js'
import { parseSelector, selectorText } from './selector.js'
import type { HealthGate, RolloutDocument, RolloutState, WaveSpec } from './types.js'

export const MAX_WAVES = 16
export const MAX_WAVE_COUNT = 10_000
export const MAX_WAVE_PEERS = 1000
export const MAX_DOCUMENT_BYTES = 256 * 1024
export const MAX_REASON_LENGTH = 1024
export const MAX_SOAK_MS = 7 * 24 * 3600_000
export const MAX_PARALLEL = 10_000
export const DEFAULT_GATE: HealthGate = { success: 0.95, soakMs: 60_000 }
export const DEFAULT_ABORT = 0.1
export const ROLLOUT_STATES: RolloutState[] = ['running', 'paused', 'halted', 'completed']

const WAVE_NAME = /^[a-z0-9-]{1,32}$/
const ROLLOUT_ID = /^[a-z0-9-]{8,64}$/
/** the versions of the semver and abr schemes fit this; the node checks the release is signed */
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/
/** a peer id as text: base58btc (12D3KooW…, Qm…) or base32 (bafz…) */
const PEER_ID = /^[A-Za-z0-9]{8,128}$/
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

const WAVES_EXAMPLE = 'e.g. --waves "canary:1,10%,50%,100%"'
const GATE_EXAMPLE = 'e.g. --gate "success>=0.95,soak=60s"'
const ABORT_EXAMPLE = 'e.g. --abort "failures>=0.1"'

/** a --waves, --gate or --abort value that cannot be used */
export class RolloutSpecError extends UmeshError {
  override readonly name = 'RolloutSpecError'
  override readonly exitCode = 2
}

/** a rollout document that does not parse; `field` names the part that is wrong */
export class RolloutDocumentError extends UmeshError {
  override readonly name = 'RolloutDocumentError'
  constructor (readonly field: string, message: string) {
    super(`rollout document: ${field}: ${message}`)
  }
}

/**
 * What is wrong with a list of waves as a whole (count, names, percentages
 * increasing, the last 100%), or undefined. `where(i)` names wave i.
 */
function wavesProblem (waves: WaveSpec[], where: (i: number) => string): string | undefined {
  if (waves.length === 0) return 'no waves; give at least one, the last 100%'
  if (waves.length > MAX_WAVES) return `${waves.length} waves, more than ${MAX_WAVES}`
  const names = new Map<string, number>()
  let previous = 0
  for (const [i, w] of waves.entries()) {
    const other = names.get(w.name)
    if (other != null) return `${where(i)}: the name "${w.name}" is also the name of wave ${other + 1}; each wave needs its own name`
    names.set(w.name, i)
    if (w.fraction != null) {
      if (w.fraction <= previous) return `${where(i)}: ${pct(w.fraction)} does not exceed the wave before it (${pct(previous)}); percentages are cumulative shares of the fleet and must strictly increase`
      previous = w.fraction
    }
  }
  const last = waves[waves.length - 1]
  if (last.fraction == null) return `${where(waves.length - 1)}: the last wave is a count of nodes (${String(last.count)}); the last wave must be 100% so that every node is in some wave`
  if (last.fraction !== 1) return `${where(waves.length - 1)}: the last wave is ${pct(last.fraction)}; it must be 100% so that every node is in some wave`
  return undefined
}

function pct (fraction: number): string {
  return `${Number((fraction * 100).toFixed(4))}%`
}

/** parses --waves (syntax in the file header); throws RolloutSpecError naming the item, with an example */
export function parseWaves (text: string): WaveSpec[] {
  if (typeof text !== 'string' || text.trim() === '') throw new RolloutSpecError(`--waves is empty; give comma-separated waves, each a count of nodes or a cumulative percentage, the last 100%, ${WAVES_EXAMPLE}`)
  const items = text.split(',').map(s => s.trim())
  if (items.length > MAX_WAVES) throw new RolloutSpecError(`--waves "${text}" has ${items.length} waves, more than ${MAX_WAVES}; ${WAVES_EXAMPLE}`)
  const waves = items.map((item, i): WaveSpec => {
    const bad = (problem: string): RolloutSpecError => new RolloutSpecError(`--waves: wave ${i + 1} ("${item}") ${problem}; ${WAVES_EXAMPLE}`)
    if (item === '') throw bad('is empty (two commas in a row, or a comma at an end)')
    const colon = item.indexOf(':')
    const name = colon === -1 ? `wave-${i + 1}` : item.slice(0, colon).trim()
    const value = colon === -1 ? item : item.slice(colon + 1).trim()
    if (!WAVE_NAME.test(name)) throw bad(`has the name "${name}"; a name is 1-32 lowercase letters, digits and -`)
    const count = /^\d+$/.exec(value)
    if (count != null) {
      const n = Number(value)
      if (n < 1 || n > MAX_WAVE_COUNT) throw bad(`is a count of ${n} nodes; a count is from 1 to ${MAX_WAVE_COUNT}`)
      return { name, count: n, peers: [] }
    }
    const percent = /^(\d{1,3}(?:\.\d{1,4})?)%$/.exec(value)
    if (percent != null) {
      const p = Number(percent[1])
      if (p <= 0 || p > 100) throw bad(`is ${p}%; a percentage is above 0 and at most 100`)
      return { name, fraction: p / 100, peers: [] }
    }
    throw bad(`is neither a count of nodes (e.g. 5) nor a percentage of the fleet (e.g. 10%)${value.includes(':') ? ' (one name: per wave)' : ''}`)
  })
  const problem = wavesProblem(waves, i => `wave ${i + 1} ("${items[i]}")`)
  if (problem != null) throw new RolloutSpecError(`--waves "${text}": ${problem}; ${WAVES_EXAMPLE}`)
  return waves
}

function parseRatio (value: string): number | undefined {
  if (!/^(\d+(\.\d+)?|\.\d+)$/.test(value)) return undefined
  const r = Number(value)
  return r >= 0 && r <= 1 ? r : undefined
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000 }

/** milliseconds of `Nms`, `Ns`, `Nm` or `Nh`, or undefined */
export function parseDuration (value: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|m|h)$/.exec(value)
  return m == null ? undefined : Number(m[1]) * DURATION_UNITS[m[2]]
}

/** parses --gate "success>=0.95,soak=60s"; each key optional, in any order */
export function parseGate (text: string): HealthGate {
  const gate = { ...DEFAULT_GATE }
  if (typeof text !== 'string') throw new RolloutSpecError(`--gate: expected text, ${GATE_EXAMPLE}`)
  if (text.trim() === '') return gate
  const seen = new Set<string>()
  for (const raw of text.split(',')) {
    const item = raw.trim()
    const bad = (problem: string): RolloutSpecError => new RolloutSpecError(`--gate: "${item}" ${problem}; ${GATE_EXAMPLE}`)
    const m = /^([a-z]+)\s*(>=|=)\s*(.*)$/.exec(item)
    if (m == null) throw bad('is not success>=RATIO or soak=DURATION')
    const [, key, op, value] = m
    if (seen.has(key)) throw bad(`gives ${key} a second time`)
    seen.add(key)
    if (key === 'success') {
      if (op !== '>=') throw bad('needs >= (success>=0.95: at least this share of the wave healthy)')
      const r = parseRatio(value)
      if (r == null) throw bad(`has the success ratio "${value}"; expected a ratio from 0 to 1 such as 0.95`)
      gate.success = r
    } else if (key === 'soak') {
      if (op !== '=') throw bad('needs = (soak=60s)')
      const ms = parseDuration(value)
      if (ms == null) throw bad(`has the soak time "${value}"; expected a whole number with ms, s, m or h, such as 60s or 5m`)
      if (ms > MAX_SOAK_MS) throw bad(`has a soak time above ${MAX_SOAK_MS / 3600_000} h`)
      gate.soakMs = ms
    } else {
      throw bad(`names "${key}"; the gate knows success and soak`)
    }
  }
  return gate
}

/** parses --abort "failures>=0.1" to the ratio */
export function parseAbort (text: string): number {
  const m = typeof text === 'string' ? /^\s*failures\s*>=\s*(\S+)\s*$/.exec(text) : null
  if (m == null) throw new RolloutSpecError(`--abort: "${String(text)}" is not failures>=RATIO; ${ABORT_EXAMPLE}`)
  const r = parseRatio(m[1])
  if (r == null) throw new RolloutSpecError(`--abort: the failure ratio "${m[1]}" is not a ratio from 0 to 1 (0 halts at the first failure); ${ABORT_EXAMPLE}`)
  return r
}

/** a new rollout id: 16 random hex characters */
export function newRolloutId (): string {
  return randomBytes(8).toString('hex')
}

/** the target path of a package's rollout document */
export function rolloutTargetPath (pkg: string): string {
  return `rollouts/${pkg}.json`
}

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function onlyKeys (obj: Record<string, unknown>, required: string[], optional: string[], field: string): void {
  for (const key of Object.keys(obj)) {
    if (!required.includes(key) && !optional.includes(key)) throw new RolloutDocumentError(field === '' ? key : `${field}.${key}`, `unknown field; expected ${[...required, ...optional].join(', ')}`)
  }
  for (const key of required) {
    if (obj[key] === undefined) throw new RolloutDocumentError(field === '' ? key : `${field}.${key}`, 'missing')
  }
}

function str (v: unknown, field: string, re: RegExp, expected: string): string {
  if (typeof v !== 'string' || !re.test(v)) throw new RolloutDocumentError(field, `expected ${expected}, found ${JSON.stringify(v)?.slice(0, 80)}`)
  return v
}

function num (v: unknown, field: string, min: number, max: number, integer: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new RolloutDocumentError(field, `expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, found ${JSON.stringify(v)?.slice(0, 80)}`)
  }
  return v
}

function bool (v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new RolloutDocumentError(field, `expected true or false, found ${JSON.stringify(v)?.slice(0, 80)}`)
  return v
}

function date (v: unknown, field: string): string {
  if (typeof v !== 'string' || !ISO_DATE.test(v) || Number.isNaN(Date.parse(v))) throw new RolloutDocumentError(field, `expected an ISO date with a time zone such as 2026-11-24T02:00:00.000Z, found ${JSON.stringify(v)?.slice(0, 80)}`)
  return v
}

function wave (raw: unknown, field: string, seenPeers: Map<string, string>): WaveSpec {
  if (!isObject(raw)) throw new RolloutDocumentError(field, 'expected an object {name, fraction or count, peers}')
  onlyKeys(raw, ['name', 'peers'], ['fraction', 'count'], field)
  const name = str(raw.name, `${field}.name`, WAVE_NAME, '1-32 lowercase letters, digits and -')
  if ((raw.fraction === undefined) === (raw.count === undefined)) throw new RolloutDocumentError(field, 'expected exactly one of fraction and count')
  if (!Array.isArray(raw.peers)) throw new RolloutDocumentError(`${field}.peers`, 'expected a list of peer ids')
  if (raw.peers.length > MAX_WAVE_PEERS) throw new RolloutDocumentError(`${field}.peers`, `${raw.peers.length} peers, more than ${MAX_WAVE_PEERS}`)
  const peers = raw.peers.map((p, j) => {
    const peer = str(p, `${field}.peers[${j}]`, PEER_ID, 'a peer id')
    const other = seenPeers.get(peer)
    if (other != null) throw new RolloutDocumentError(`${field}.peers[${j}]`, `${peer} is also listed at ${other}; a node is in one wave`)
    seenPeers.set(peer, `${field}.peers[${j}]`)
    return peer
  })
  if (raw.count !== undefined) {
    const count = num(raw.count, `${field}.count`, 1, MAX_WAVE_COUNT, true)
    if (peers.length > count) throw new RolloutDocumentError(`${field}.peers`, `${peers.length} peers listed for a wave of ${count}`)
    return { name, count, peers }
  }
  const fraction = num(raw.fraction, `${field}.fraction`, 0, 1, false)
  if (fraction === 0) throw new RolloutDocumentError(`${field}.fraction`, 'expected a share above 0')
  return { name, fraction, peers }
}

/** parses and checks a rollout document; throws RolloutDocumentError naming the field */
export function parseRolloutDocument (bytes: Uint8Array): RolloutDocument {
  if (bytes.byteLength > MAX_DOCUMENT_BYTES) throw new RolloutDocumentError('(document)', `${bytes.byteLength} bytes, more than ${MAX_DOCUMENT_BYTES}`)
  let raw: unknown
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw new RolloutDocumentError('(document)', `not UTF-8 JSON (${(err as Error).message})`)
  }
  if (!isObject(raw)) throw new RolloutDocumentError('(document)', 'expected a JSON object')
  onlyKeys(raw, ['format', 'id', 'package', 'version', 'waves', 'open', 'state', 'rollback', 'gate', 'abort', 'maxParallel', 'manual', 'downgrade', 'critical', 'created', 'updated', 'reason'], ['selector'], '')
  if (raw.format !== ROLLOUT_FORMAT) throw new RolloutDocumentError('format', `expected "${ROLLOUT_FORMAT}", found ${JSON.stringify(raw.format)?.slice(0, 80)} (a newer umesh may be needed)`)
  const id = str(raw.id, 'id', ROLLOUT_ID, '8-64 lowercase letters, digits and -')
  const pkg = str(raw.package, 'package', PACKAGE_NAME, 'a package name: 1-64 of a-z 0-9 . _ -, starting with a letter or digit')
  const version = str(raw.version, 'version', VERSION, 'a version of 1-64 letters, digits, . + _ -')
  if (!Array.isArray(raw.waves)) throw new RolloutDocumentError('waves', 'expected a list of waves')
  if (raw.waves.length === 0 || raw.waves.length > MAX_WAVES) throw new RolloutDocumentError('waves', `expected 1 to ${MAX_WAVES} waves, found ${raw.waves.length}`)
  const seenPeers = new Map<string, string>()
  const waves = raw.waves.map((w, i) => wave(w, `waves[${i}]`, seenPeers))
  const problem = wavesProblem(waves, i => `waves[${i}]`)
  if (problem != null) throw new RolloutDocumentError('waves', problem)
  const open = num(raw.open, 'open', -1, waves.length - 1, true)
  if (!ROLLOUT_STATES.includes(raw.state as RolloutState)) throw new RolloutDocumentError('state', `expected one of ${ROLLOUT_STATES.join(', ')}, found ${JSON.stringify(raw.state)?.slice(0, 80)}`)
  if (!isObject(raw.gate)) throw new RolloutDocumentError('gate', 'expected an object {success, soakMs}')
  onlyKeys(raw.gate, ['success', 'soakMs'], [], 'gate')
  const gate: HealthGate = {
    success: num(raw.gate.success, 'gate.success', 0, 1, false),
    soakMs: num(raw.gate.soakMs, 'gate.soakMs', 0, MAX_SOAK_MS, true)
  }
  if (typeof raw.reason !== 'string' || raw.reason.length > MAX_REASON_LENGTH) throw new RolloutDocumentError('reason', `expected text of at most ${MAX_REASON_LENGTH} characters`)
  return {
    format: ROLLOUT_FORMAT,
    id,
    package: pkg,
    version,
    waves,
    open,
    state: raw.state as RolloutState,
    rollback: bool(raw.rollback, 'rollback'),
    gate,
    abort: num(raw.abort, 'abort', 0, 1, false),
    maxParallel: num(raw.maxParallel, 'maxParallel', 1, MAX_PARALLEL, true),
    manual: bool(raw.manual, 'manual'),
    downgrade: bool(raw.downgrade, 'downgrade'),
    critical: bool(raw.critical, 'critical'),
    created: date(raw.created, 'created'),
    updated: date(raw.updated, 'updated'),
    reason: raw.reason,
    ...(raw.selector === undefined ? {} : { selector: selector(raw.selector) })
  }
}

/** a document's selector: text in canonical form, so every node reads the same requirements */
function selector (v: unknown): string {
  if (typeof v !== 'string') throw new RolloutDocumentError('selector', `expected selector text, found ${JSON.stringify(v)?.slice(0, 80)}`)
  let canonical: string
  try {
    canonical = selectorText(parseSelector(v))
  } catch (err) {
    throw new RolloutDocumentError('selector', (err as Error).message.replace(/^--select: /, '').split('\n')[0])
  }
  if (canonical !== v) throw new RolloutDocumentError('selector', `expected the canonical form "${canonical.slice(0, 200)}", found "${v.slice(0, 200)}"`)
  return v
}

/** JSON with object keys sorted at every level, no spaces; undefined members left out like JSON.stringify */
export function stableJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(v => v === undefined ? 'null' : stableJson(v)).join(',')}]`
  if (isObject(value)) {
    return `{${Object.keys(value).sort().filter(k => value[k] !== undefined).map(k => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/**
 * The document's bytes: stable JSON (sorted keys) and a newline. It is
 * checked by parseRolloutDocument first, so a document nodes would refuse is
 * never signed: throws RolloutDocumentError.
 */
export function encodeRolloutDocument (doc: RolloutDocument): Uint8Array {
  const bytes = new TextEncoder().encode(stableJson(doc) + '\n')
  parseRolloutDocument(bytes)
  return bytes
}
