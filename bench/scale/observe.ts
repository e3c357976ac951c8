/**
 * What the scale benchmark reads from its daemons: status over the status
 * protocol (one in-process client, every request counted and bounded),
 * /metrics of the daemons that have an HTTP listener (bytes per protocol,
 * pieces fetched, announcements), and the node's own records (held.json's
 * time of writing, the install history).
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { readHeldFile } from '../../src/data-dir/held.js'
import { readHistory } from '../../src/install/journal.js'
import { countedStatus } from '../status-requests.js'
import { PACKAGE } from './options.js'
import type { Member } from './fleet.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { Libp2p } from '@libp2p/interface'

export async function tryStatus (client: Libp2p, m: Member, timeoutMs = 5_000): Promise<StatusResponse | undefined> {
  try {
    return await countedStatus(client, m, timeoutMs)
  } catch {
    return undefined
  }
}

/**
 * When the node came to hold `version` (wall ms), from its own held.json:
 * its time of writing when it first lists the release (read every poll, so
 * no later write has happened yet); undefined while it does not. Files,
 * not status requests: 50 daemons on 2 busy cores answer status late.
 */
export function heldAt (m: Member, version: string): number | undefined {
  const file = join(m.p.dataDir, 'held.json')
  try {
    const at = statSync(file).mtimeMs
    return readHeldFile(file).releases.includes(`releases/${PACKAGE}/${version}.json`) ? at : undefined
  } catch {
    return undefined
  }
}

/** the install of `version` that succeeded, from the node's history (wall ms) */
export function installOf (m: Member, version: string): { start: number, end: number } | undefined {
  const e = readHistory(join(m.p.dataDir, 'installs', PACKAGE)).filter(h => h.to === version && h.outcome === 'installed').at(-1)
  return e == null ? undefined : { start: Date.parse(e.startedAt), end: Date.parse(e.finishedAt) }
}

/** the counters the report uses, per daemon, as numbers; absent when not read */
export interface Counters {
  bytesIn: number
  bytesOut: number
  chunkUp: number
  chunkDown: number
  /** /metrics only */
  protocols?: Map<string, { in: number, out: number }>
  piecesFetched?: number
  announcements?: number
  /** rollout reports by verdict */
  reports?: { accepted: number, stale: number }
}

export function countersOf (s: StatusResponse | undefined): Counters | undefined {
  if (s == null) return undefined
  return {
    bytesIn: Number(s.traffic?.bytesIn ?? 0n),
    bytesOut: Number(s.traffic?.bytesOut ?? 0n),
    chunkUp: Number(s.bandwidth?.uploadedBytes ?? 0n),
    chunkDown: Number(s.bandwidth?.downloadedBytes ?? 0n)
  }
}

/** reads /metrics (5 s limit) and adds what it says to `c` */
export async function scrape (m: Member, c: Counters): Promise<void> {
  if (m.httpPort == null) return
  try {
    const res = await fetch(`http://127.0.0.1:${m.httpPort}/metrics`, { signal: AbortSignal.timeout(5_000) })
    const text = (await res.text()).slice(0, 1024 * 1024)
    const protocols = new Map<string, { in: number, out: number }>()
    let announcements = 0
    const reports = { accepted: 0, stale: 0 }
    for (const line of text.split('\n')) {
      let match = /^umesh_protocol_bytes_total\{protocol="([^"]*)",direction="(in|out)"\} (\S+)/.exec(line)
      if (match != null) {
        const p = protocols.get(match[1]) ?? { in: 0, out: 0 }
        p[match[2] as 'in' | 'out'] = Number(match[3])
        protocols.set(match[1], p)
        continue
      }
      match = /^umesh_swarm_pieces_fetched_total (\S+)/.exec(line)
      if (match != null) { c.piecesFetched = Number(match[1]); continue }
      match = /^umesh_announcements_total\{verdict="[^"]*"\} (\S+)/.exec(line)
      if (match != null) { announcements += Number(match[1]); continue }
      match = /^umesh_reports_total\{verdict="(accepted|stale)"\} (\S+)/.exec(line)
      if (match != null) reports[match[1] as 'accepted' | 'stale'] = Number(match[2])
    }
    c.protocols = protocols
    c.announcements = announcements
    c.reports = reports
  } catch {}
}

/** b - a, field by field (per protocol too) */
export function minus (b: Counters, a: Counters): Counters {
  const d: Counters = { bytesIn: b.bytesIn - a.bytesIn, bytesOut: b.bytesOut - a.bytesOut, chunkUp: b.chunkUp - a.chunkUp, chunkDown: b.chunkDown - a.chunkDown }
  if (b.protocols != null && a.protocols != null) {
    d.protocols = new Map()
    for (const [k, v] of b.protocols) {
      const w = a.protocols.get(k) ?? { in: 0, out: 0 }
      d.protocols.set(k, { in: v.in - w.in, out: v.out - w.out })
    }
  }
  if (b.piecesFetched != null && a.piecesFetched != null) d.piecesFetched = b.piecesFetched - a.piecesFetched
  if (b.announcements != null && a.announcements != null) d.announcements = b.announcements - a.announcements
  if (b.reports != null && a.reports != null) d.reports = { accepted: b.reports.accepted - a.reports.accepted, stale: b.reports.stale - a.reports.stale }
  return d
}

/** every member's counters (status, and /metrics where there is a listener), 8 at a time so a loaded machine can answer */
export async function readAll (client: Libp2p, members: Member[]): Promise<Map<string, Counters>> {
  const out = new Map<string, Counters>()
  for (let k = 0; k < members.length; k += 8) {
    await Promise.all(members.slice(k, k + 8).map(async m => {
      const c = countersOf(await tryStatus(client, m, 10_000))
      if (c == null) return
      await scrape(m, c)
      out.set(m.name, c)
    }))
  }
  return out
}
