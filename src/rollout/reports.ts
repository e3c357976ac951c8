/**
 * Node reports on the reports topic: what a node says about itself during a
 * rollout, signed with its node key.
 *
 * Wire format: the UTF-8 JSON `{"report":{...},"signature":"<base64>"}`
 * (a SignedReport), at most MAX_REPORT_BYTES. The signature is Ed25519 over
 * `canonicalReport(report)`, the report's JSON with a fixed key order, made
 * by the key of `report.peerId`: Ed25519 peer ids embed their public key, so
 * a report verifies on its own, without a key lookup and whoever relays it.
 *
 * Parsing is strict: every field is checked (type, range, length) and
 * unknown keys are refused, in the report and in the envelope (they would
 * not be covered by the signature). Lengths of strings are counted in code
 * points. The gossipsub validator (`reportValidator`) accepts verified
 * reports and rejects everything else, which gets the sender penalised by
 * gossipsub's peer scoring; whether a verified report is newer than what a
 * node knows is the ReportBook's business, not the validator's: a stale but
 * genuine report is still accepted (it is harmless: every book drops it).
 *
 * The ReportBook keeps the newest report (by `seq`) per peer per rollout,
 * bounded in peers (least recently seen evicted) and in rollouts per peer.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Message } from '@libp2p/gossipsub'
import type { Logger, PeerId, PrivateKey } from '@libp2p/interface'
import type { NodeOutcome, NodeReport, SignedReport } from './types.js'
import { labelsProblem, sortedLabels } from './labels.js'
import { unreachableAfterMs } from './heartbeat.js'

export const MAX_REPORT_BYTES = 8 * 1024
export const MAX_REASON_CHARS = 512
export const MAX_VERSION_CHARS = 64
export const MAX_TAGS = 16
export const MAX_TAG_CHARS = 32
/** wave -1: the node is not in the rollout (or there is none) */
export const MAX_WAVE = 15

export const NODE_OUTCOMES: readonly NodeOutcome[] = ['waiting', 'fetched', 'installing', 'healthy', 'failed', 'rolled-back', 'deferred', 'refused', 'not-selected']

const ROLLOUT_ID = /^[a-z0-9-]{1,64}$/
const PACKAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/
const REPORT_KEYS = ['peerId', 'rolloutId', 'package', 'version', 'outcome', 'current', 'wave', 'reason', 'tags', 'labels', 'at', 'seq'] as const
/** may be left out: a report without labels keeps the form nodes before labels sign and read */
const OPTIONAL_KEYS: readonly string[] = ['labels']
const ENVELOPE_KEYS = ['report', 'signature']
/** an Ed25519 signature: 64 bytes */
const SIGNATURE_BYTES = 64

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function codePoints (s: string): number {
  let n = 0
  for (const _ of s) n++ // eslint-disable-line @typescript-eslint/no-unused-vars
  return n
}

function truncate (s: string, max: number): string {
  if (s.length <= max) return s
  return Array.from(s).slice(0, max).join('')
}

/** the bytes that are signed: the report's JSON with the keys in a fixed order */
export function canonicalReport (report: NodeReport): Uint8Array {
  const ordered: Record<string, unknown> = {}
  for (const key of REPORT_KEYS) ordered[key] = key === 'tags' ? [...report.tags] : key === 'labels' ? (report.labels == null ? undefined : sortedLabels(report.labels)) : report[key]
  return encoder.encode(JSON.stringify(ordered))
}

/** a copy of `report` with only the report's fields and the reason cut to MAX_REASON_CHARS code points */
export function makeReport (report: NodeReport): NodeReport {
  return {
    peerId: report.peerId,
    rolloutId: report.rolloutId,
    package: report.package,
    version: report.version,
    outcome: report.outcome,
    current: report.current,
    wave: report.wave,
    reason: truncate(report.reason, MAX_REASON_CHARS),
    tags: [...report.tags],
    ...(report.labels == null || Object.keys(report.labels).length === 0 ? {} : { labels: sortedLabels(report.labels) }),
    at: report.at,
    seq: report.seq
  }
}

/**
 * Checks every field of a parsed report; returns the report (a fresh
 * object holding only the known fields) or why it is malformed, as
 * "field <name>: <what is wrong>". The peer id must be an Ed25519 one in
 * its canonical string form.
 */
export function checkReport (value: unknown): { ok: true, report: NodeReport, peerId: PeerId } | { ok: false, reason: string } {
  const bad = (field: string, what: string): { ok: false, reason: string } => ({ ok: false, reason: `field ${field}: ${what}` })
  if (value == null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'report: not a JSON object' }
  const r = value as Record<string, unknown>
  for (const key of Object.keys(r)) {
    if (!(REPORT_KEYS as readonly string[]).includes(key)) return bad(key, 'unknown field')
  }
  for (const key of REPORT_KEYS) {
    if (!(key in r) && !OPTIONAL_KEYS.includes(key)) return bad(key, 'missing')
  }
  const str = (field: string, max: number): string | undefined => {
    const v = r[field]
    return typeof v === 'string' && codePoints(v) <= max ? v : undefined
  }
  if (typeof r.peerId !== 'string') return bad('peerId', 'not a string')
  let peerId: PeerId
  try {
    peerId = peerIdFromString(r.peerId)
  } catch (err) {
    return bad('peerId', `"${truncate(r.peerId, 80)}" is not a peer id (${(err as Error).message})`)
  }
  if (peerId.type !== 'Ed25519' || peerId.publicKey == null) return bad('peerId', `${r.peerId} is a ${peerId.type} peer id; reports are signed with Ed25519 node keys`)
  if (peerId.toString() !== r.peerId) return bad('peerId', `${truncate(r.peerId, 80)} is not in the canonical form ${peerId.toString()}`)
  if (typeof r.rolloutId !== 'string' || !ROLLOUT_ID.test(r.rolloutId)) return bad('rolloutId', 'expected 1-64 of a-z 0-9 -')
  if (typeof r.package !== 'string' || !PACKAGE_NAME.test(r.package)) return bad('package', 'expected a package name: 1-64 of a-z 0-9 . _ -, starting with a letter or digit')
  const version = str('version', MAX_VERSION_CHARS)
  if (version == null) return bad('version', `expected a string of at most ${MAX_VERSION_CHARS} characters`)
  if (typeof r.outcome !== 'string' || !(NODE_OUTCOMES as readonly string[]).includes(r.outcome)) return bad('outcome', `expected one of ${NODE_OUTCOMES.join(', ')}`)
  const current = str('current', MAX_VERSION_CHARS)
  if (current == null) return bad('current', `expected a string of at most ${MAX_VERSION_CHARS} characters`)
  if (typeof r.wave !== 'number' || !Number.isInteger(r.wave) || r.wave < -1 || r.wave > MAX_WAVE) return bad('wave', `expected an integer from 0 to ${MAX_WAVE}, or -1`)
  const reason = str('reason', MAX_REASON_CHARS)
  if (reason == null) return bad('reason', `expected a string of at most ${MAX_REASON_CHARS} characters`)
  if (!Array.isArray(r.tags)) return bad('tags', 'not an array')
  if (r.tags.length > MAX_TAGS) return bad('tags', `${r.tags.length} tags, at most ${MAX_TAGS} allowed`)
  for (const tag of r.tags) {
    if (typeof tag !== 'string' || codePoints(tag) > MAX_TAG_CHARS) return bad('tags', `expected strings of at most ${MAX_TAG_CHARS} characters`)
  }
  let labels: Record<string, string> | undefined
  if (r.labels !== undefined) {
    if (r.labels == null || typeof r.labels !== 'object' || Array.isArray(r.labels)) return bad('labels', 'expected an object of key: value')
    const entries = Object.entries(r.labels)
    // an empty set is sent by leaving the field out: one spelling per report, for the signature
    if (entries.length === 0) return bad('labels', 'empty; a node without labels leaves the field out')
    const problem = labelsProblem(Object.fromEntries(entries))
    if (problem != null) return bad('labels', problem)
    labels = sortedLabels(Object.fromEntries(entries) as Record<string, string>)
  }
  if (typeof r.at !== 'number' || !Number.isSafeInteger(r.at) || r.at < 0) return bad('at', 'expected milliseconds since the epoch (a non-negative safe integer)')
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 0) return bad('seq', 'expected a non-negative safe integer')
  const report: NodeReport = {
    peerId: r.peerId,
    rolloutId: r.rolloutId,
    package: r.package,
    version,
    outcome: r.outcome as NodeOutcome,
    current,
    wave: r.wave,
    reason,
    tags: [...(r.tags as string[])],
    ...(labels == null ? {} : { labels }),
    at: r.at,
    seq: r.seq
  }
  return { ok: true, report, peerId }
}

function encodeEnvelope (report: NodeReport, signature: Uint8Array): Uint8Array {
  const signed: SignedReport = { report, signature: Buffer.from(signature).toString('base64') }
  return encoder.encode(JSON.stringify(signed))
}

/**
 * Signs a report with the node key and returns the wire bytes. The reason
 * is cut to MAX_REASON_CHARS first; a report that other nodes would refuse
 * (a bad field, a peer id that is not this key's, more than
 * MAX_REPORT_BYTES) throws instead of being sent.
 */
export async function signReport (report: NodeReport, privateKey: PrivateKey): Promise<Uint8Array> {
  const checked = checkReport(makeReport(report))
  if (!checked.ok) throw new Error(`cannot sign this report: ${checked.reason}`)
  if (!checked.peerId.publicKey!.equals(privateKey.publicKey)) throw new Error(`cannot sign this report: its peerId ${report.peerId} is not the peer id of the signing key`)
  const signature = await privateKey.sign(canonicalReport(checked.report))
  const bytes = encodeEnvelope(checked.report, signature)
  // with every field within its limits a report takes under 7.5 KiB; this is a guard should the limits change
  if (bytes.byteLength > MAX_REPORT_BYTES) throw new Error(`cannot sign this report: it takes ${bytes.byteLength} bytes, at most ${MAX_REPORT_BYTES} allowed`)
  return bytes
}

export type VerifyResult = { ok: true, report: NodeReport } | { ok: false, reason: string }

/** parses and verifies wire bytes; never throws */
export async function verifyReport (bytes: Uint8Array): Promise<VerifyResult> {
  if (bytes.byteLength > MAX_REPORT_BYTES) return { ok: false, reason: `report too large: ${bytes.byteLength} bytes, at most ${MAX_REPORT_BYTES}` }
  let envelope: unknown
  try {
    envelope = JSON.parse(decoder.decode(bytes))
  } catch (err) {
    return { ok: false, reason: `not UTF-8 JSON: ${(err as Error).message}` }
  }
  if (envelope == null || typeof envelope !== 'object' || Array.isArray(envelope)) return { ok: false, reason: 'not a JSON object { report, signature }' }
  const e = envelope as Record<string, unknown>
  for (const key of Object.keys(e)) {
    if (!ENVELOPE_KEYS.includes(key)) return { ok: false, reason: `field ${key}: unknown field` }
  }
  const checked = checkReport(e.report)
  if (!checked.ok) return checked
  if (typeof e.signature !== 'string') return { ok: false, reason: 'field signature: expected a base64 string' }
  const signature = Buffer.from(e.signature, 'base64')
  if (signature.byteLength !== SIGNATURE_BYTES || signature.toString('base64') !== e.signature) {
    return { ok: false, reason: `field signature: expected the base64 of a ${SIGNATURE_BYTES}-byte Ed25519 signature` }
  }
  let valid: boolean
  try {
    valid = await checked.peerId.publicKey!.verify(canonicalReport(checked.report), signature)
  } catch (err) {
    return { ok: false, reason: `signature cannot be checked: ${(err as Error).message}` }
  }
  if (!valid) return { ok: false, reason: `signature does not match peer ${checked.report.peerId}` }
  return { ok: true, report: checked.report }
}

/** reports on the topic since start, by what this node made of them */
export interface ReportCounts {
  /** verified and new: taken and forwarded */
  accepted: number
  /** verified but no newer than what this node holds from that node: not forwarded */
  stale: number
  /** malformed or badly signed */
  rejected: number
}

export function newReportCounts (): ReportCounts {
  return { accepted: 0, stale: 0, rejected: 0 }
}

/**
 * A gossipsub topic validator for the reports topic. Verified reports go to
 * `onReport`; one it takes as new (it returns true) is accepted, so
 * gossipsub forwards it. One it does not take (a seq no newer than the
 * report it holds from that node for that rollout and package, or its own
 * report come back) is ignored: neither forwarded nor held against the
 * sender. Gossipsub forgets a message id after its seen TTL (15 s here, so
 * that the publisher's re-announcements go out), and a report can arrive
 * again after that (a late IWANT answer from a node whose event loop lags):
 * every node would forward it again. Malformed or badly signed reports are
 * rejected, which counts against the peer that sent them. Rejections are
 * logged, at most 20 lines a minute (the rest are counted).
 */
export function reportValidator (onReport: (report: NodeReport, from: PeerId) => boolean, log: Logger, counts: ReportCounts = newReportCounts()): (from: PeerId, msg: Message) => Promise<TopicValidatorResult> {
  let windowStart = 0
  let lines = 0
  let suppressed = 0
  const logRejection = (from: PeerId, reason: string): void => {
    const now = Date.now()
    if (now - windowStart >= 60_000) {
      if (suppressed > 0) log('%d more rejected reports not logged', suppressed)
      windowStart = now
      lines = 0
      suppressed = 0
    }
    if (lines < 20) {
      lines++
      log('rejecting a report from %p: %s', from, reason)
    } else {
      suppressed++
    }
  }
  return async (from, msg) => {
    let result: VerifyResult
    try {
      result = await verifyReport(msg.data)
    } catch (err) {
      log.error('cannot judge a report from %p - %e', from, err)
      return TopicValidatorResult.Ignore
    }
    if (!result.ok) {
      counts.rejected++
      logRejection(from, result.reason)
      return TopicValidatorResult.Reject
    }
    let fresh = true
    try {
      fresh = onReport(result.report, from)
    } catch (err) {
      // a verified report the handler failed on still goes on: the fault is this node's
      log.error('handling a report of %s failed - %e', result.report.peerId, err)
    }
    if (!fresh) {
      counts.stale++
      return TopicValidatorResult.Ignore
    }
    counts.accepted++
    return TopicValidatorResult.Accept
  }
}

export interface ReportBookOptions {
  /** peers kept; beyond, the least recently seen is evicted (default 10,000) */
  maxPeers?: number
  /** rollouts kept per peer; beyond, the report with the lowest seq is dropped (default 64) */
  maxRolloutsPerPeer?: number
  /** the clock for lastSeen (default Date.now) */
  now?: () => number
}

export interface ReportBookNode {
  peerId: string
  /** the peer's report with the highest seq, whatever the rollout */
  lastReport: NodeReport
  /** when this book last accepted a report of the peer (the book's clock) */
  lastSeen: number
}

export const REPORT_BOOK_FORMAT = 'umesh-report-book/1'

/** the persisted form: one entry per peer, least recently seen first */
export interface ReportBookJSON {
  format: typeof REPORT_BOOK_FORMAT
  entries: Array<ReportBookNode & { reports: NodeReport[] }>
}

interface PeerEntry {
  lastReport: NodeReport
  lastSeen: number
  /** by rolloutId (reportKey: a node's reports under no rollout are kept per package) */
  reports: Map<string, NodeReport>
}

/** rollout ids are unique across packages, but every package without a rollout reports the id `none` */
function reportKey (rolloutId: string, pkg: string): string {
  return rolloutId === 'none' ? `none/${pkg}` : rolloutId
}

/** one row per node and package it reports on: the newest report of that package */
export interface ReportBookRow {
  peerId: string
  package: string
  report: NodeReport
  /** when the book last accepted a report of the peer, any package */
  lastSeen: number
}

/**
 * The newest report per peer per rollout. Reports are expected verified
 * (verifyReport); `accept` keeps one only if its seq is higher than the
 * stored one for that peer and rollout.
 */
export class ReportBook {
  readonly maxPeers: number
  readonly maxRolloutsPerPeer: number
  private readonly now: () => number
  /** in order of lastSeen, least recent first */
  private readonly peers = new Map<string, PeerEntry>()

  constructor (opts: ReportBookOptions = {}) {
    this.maxPeers = Math.max(1, opts.maxPeers ?? 10_000)
    this.maxRolloutsPerPeer = Math.max(1, opts.maxRolloutsPerPeer ?? 64)
    this.now = opts.now ?? Date.now
  }

  /** peers in the book */
  get size (): number {
    return this.peers.size
  }

  /** how long a peer of this fleet may stay silent before it is unreachable (heartbeat.ts) */
  unreachableAfterMs (): number {
    return unreachableAfterMs(this.peers.size)
  }

  /** stores the report if it is newer (by seq) than the peer's stored one for its rollout; false: stale, ignored */
  accept (report: NodeReport): boolean {
    return this.put(report, this.now())
  }

  private put (report: NodeReport, seen: number): boolean {
    let entry = this.peers.get(report.peerId)
    const key = reportKey(report.rolloutId, report.package)
    const stored = entry?.reports.get(key)
    if (stored != null && report.seq <= stored.seq) return false
    if (entry == null) {
      entry = { lastReport: report, lastSeen: seen, reports: new Map() }
    } else {
      this.peers.delete(report.peerId) // re-inserted below: most recently seen last
      if (report.seq > entry.lastReport.seq) entry.lastReport = report
      entry.lastSeen = Math.max(entry.lastSeen, seen)
    }
    entry.reports.set(key, report)
    if (entry.reports.size > this.maxRolloutsPerPeer) {
      let lowest: NodeReport | undefined
      for (const r of entry.reports.values()) if (lowest == null || r.seq < lowest.seq) lowest = r
      entry.reports.delete(reportKey(lowest!.rolloutId, lowest!.package))
    }
    this.peers.set(report.peerId, entry)
    while (this.peers.size > this.maxPeers) {
      const oldest = this.peers.keys().next().value as string
      this.peers.delete(oldest)
    }
    return true
  }

  /** the newest report of each peer for this rollout */
  latest (rolloutId: string): NodeReport[] {
    const out: NodeReport[] = []
    for (const entry of this.peers.values()) {
      const r = entry.reports.get(rolloutId)
      if (r != null) out.push(r)
    }
    return out
  }

  /** the report of one peer for one rollout */
  get (peerId: string, rolloutId: string): NodeReport | undefined {
    return this.peers.get(peerId)?.reports.get(rolloutId)
  }

  /** every report kept of one peer, one per rollout */
  reportsOf (peerId: string): NodeReport[] {
    return [...(this.peers.get(peerId)?.reports.values() ?? [])]
  }

  /**
   * One row per (node, package): each node's newest report of each package
   * it reports on, least recently seen node first. A node that installs
   * several packages is in the fleet of each (its newest report of all,
   * `nodes()`, names only one package).
   */
  rows (): ReportBookRow[] {
    const out: ReportBookRow[] = []
    for (const [peerId, e] of this.peers) {
      const newest = new Map<string, NodeReport>()
      for (const r of e.reports.values()) {
        const had = newest.get(r.package)
        if (had == null || r.seq > had.seq) newest.set(r.package, r)
      }
      for (const [pkg, report] of [...newest].sort((a, b) => a[0] < b[0] ? -1 : 1)) out.push({ peerId, package: pkg, report, lastSeen: e.lastSeen })
    }
    return out
  }

  /** every peer with its newest report across rollouts, least recently seen first */
  nodes (): ReportBookNode[] {
    return [...this.peers].map(([peerId, e]) => ({ peerId, lastReport: e.lastReport, lastSeen: e.lastSeen }))
  }

  toJSON (): ReportBookJSON {
    return {
      format: REPORT_BOOK_FORMAT,
      entries: [...this.peers].map(([peerId, e]) => ({ peerId, lastReport: e.lastReport, lastSeen: e.lastSeen, reports: [...e.reports.values()] }))
    }
  }

  /**
   * Rebuilds a book from toJSON's output. Lenient, as it reads a state file:
   * something that is not a book gives an empty book, and malformed reports
   * are skipped (every field is checked as in verifyReport; signatures are
   * not kept, the file is the coordinator's own).
   */
  static fromJSON (json: unknown, opts: ReportBookOptions = {}): ReportBook {
    const book = new ReportBook(opts)
    const entries = (json as Partial<ReportBookJSON> | null)?.entries
    if (!Array.isArray(entries)) return book
    const valid: Array<{ lastSeen: number, reports: NodeReport[] }> = []
    for (const e of entries) {
      if (e == null || typeof e !== 'object') continue
      const lastSeen = typeof e.lastSeen === 'number' && Number.isFinite(e.lastSeen) ? e.lastSeen : 0
      const reports: NodeReport[] = []
      for (const r of Array.isArray(e.reports) ? e.reports : [e.lastReport]) {
        const checked = checkReport(r)
        if (checked.ok) reports.push(checked.report)
      }
      if (reports.length > 0) valid.push({ lastSeen, reports })
    }
    valid.sort((a, b) => a.lastSeen - b.lastSeen)
    for (const e of valid) {
      for (const r of e.reports.sort((a, b) => a.seq - b.seq)) book.put(r, e.lastSeen)
    }
    return book
  }
}
