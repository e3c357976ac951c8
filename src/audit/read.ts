/**
 * Reading the log for people: the entries since a time, in log order.
 * Lines that do not parse are left out here; `verify` names them.
 */
import { UsageError } from '../errors.js'
import { shapeProblem } from './entry.js'
import { readLogLines } from './log.js'
import type { AuditEntry } from './entry.js'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** --since: an ISO date (2026-12-01, 2026-12-01T08:00:00Z) or a time ago (90m, 12h, 7d) */
export function sinceTime (text: string, now = Date.now()): Date {
  const ago = /^(\d{1,9})([smhd])$/.exec(text.trim())
  if (ago != null) return new Date(now - Number(ago[1]) * UNITS[ago[2]])
  const t = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN
  if (Number.isNaN(t)) throw new UsageError(`--since: expected an ISO date (2026-12-01 or 2026-12-01T08:00:00Z) or a time ago (90m, 12h, 7d), found "${text}"`)
  return new Date(t)
}

export function readAuditLog (repoDir: string, since?: Date): AuditEntry[] {
  const out: AuditEntry[] = []
  for (const l of readLogLines(repoDir)) {
    try {
      const raw = JSON.parse(l.text)
      if (shapeProblem(raw) != null) continue
      if (since != null && Date.parse(raw.time) < since.getTime()) continue
      out.push(raw)
    } catch {}
  }
  return out
}
