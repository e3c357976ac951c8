/**
 * The demo's live table: one row per process, filled from its status
 * response (or from its exit, if it died).
 */
import { bytes, duration, installText, releaseText } from '../view/index.js'
import type { StatusResponse } from '../../protocols/status/index.js'

export interface Row {
  name: string
  status?: StatusResponse
  error?: string
}

const COLUMNS = ['name', 'peer id', 'role', 'phase', 'conns', 'uptime', 'rss', 'in/out', 'releases', 'installed']

export function shortId (id: string): string {
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id
}

export function renderTable (rows: Row[]): string {
  const cells = rows.map(({ name, status: s, error }) => s == null
    ? [name, '-', '-', error ?? 'no answer', '-', '-', '-', '-', '-', '-']
    : [name, shortId(s.peerId), s.role, s.phase, String(s.connections), duration(s.uptimeMs),
        s.resources == null ? '-' : bytes(s.resources.rssBytes),
        s.traffic == null ? '-' : `${bytes(s.traffic.bytesIn)} / ${bytes(s.traffic.bytesOut)}`,
        s.releases.length === 0 ? '-' : s.releases.map(releaseText).join(', '),
        s.installs.length === 0 ? '-' : s.installs.map(installText).join(', ')])
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map(r => r[i].length)))
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [line(COLUMNS), line(widths.map(w => '-'.repeat(w))), ...cells.map(line)].join('\n')
}
