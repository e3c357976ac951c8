/**
 * Maintenance windows and blackouts: when a node lets a rollout install.
 *
 *   "maintenance": {
 *     "windows": [{ "days": ["mon", "tue"], "start": "02:00", "end": "04:00", "timeZone": "Europe/Berlin" }],
 *     "blackouts": [{ "from": "2026-12-20T00:00:00Z", "to": "2027-01-02T00:00:00Z" }]
 *   }
 *
 * Rules (installAllowed):
 *   - inside a blackout ([from, to)): never, not even for a critical
 *     release; a blackout is the operator saying "not now, whatever happens";
 *   - a critical release bypasses the windows (not the blackouts);
 *   - no windows: any time outside blackouts;
 *   - otherwise inside some window: the window's clock is its time zone's
 *     wall clock; `days` (empty: every day) names the day the window
 *     starts, so a window 23:00-01:00 on fri runs from friday 23:00 to
 *     saturday 01:00; `end` before `start` spans midnight; `end` may be
 *     24:00. Windows are half open: 02:00-04:00 allows 02:00, not 04:00. On
 *     a day when the clocks skip the start time, the window opens when the
 *     wall clock first passes it.
 * When not allowed, `nextAt` is the earliest moment installs are allowed
 * again (a window start or a blackout end, whichever comes first and is not
 * itself blocked), searched up to 8 days past each blackout that is in the way.
 *
 * Wall clocks come from Intl.DateTimeFormat; no time zone library.
 */
import { ConfigError } from '../errors.js'
import type { Blackout, MaintenanceConfig, MaintenanceWindow } from './types.js'

export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export const MAX_WINDOWS = 32
export const MAX_BLACKOUTS = 64
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/
const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/
const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE
/** how far past a reference point window starts are looked for */
const SEARCH_DAYS = 8

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function onlyKeys (obj: Record<string, unknown>, allowed: string[], field: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ConfigError(`${field}.${key}`, `unknown key; expected one of ${allowed.join(', ')}`)
  }
}

/** minutes since midnight of "HH:MM" (end may be "24:00"), or undefined */
function clockMinutes (text: string, isEnd: boolean): number | undefined {
  if (isEnd && text === '24:00') return 1440
  const m = CLOCK.exec(text)
  return m == null ? undefined : Number(m[1]) * 60 + Number(m[2])
}

function validTimeZone (tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

function parseWindow (raw: unknown, field: string): MaintenanceWindow {
  if (!isObject(raw)) throw new ConfigError(field, 'expected an object such as {"days": ["sat", "sun"], "start": "02:00", "end": "05:00", "timeZone": "Europe/Berlin"}')
  onlyKeys(raw, ['days', 'start', 'end', 'timeZone'], field)
  const days = raw.days ?? []
  if (!Array.isArray(days)) throw new ConfigError(`${field}.days`, `expected a list of days from ${DAYS.join(', ')} (empty: every day)`)
  for (const [i, d] of days.entries()) {
    if (!(DAYS as readonly unknown[]).includes(d)) throw new ConfigError(`${field}.days[${i}]`, `expected one of ${DAYS.join(', ')} (lowercase), found ${JSON.stringify(d)}`)
    if (days.indexOf(d) !== i) throw new ConfigError(`${field}.days[${i}]`, `${String(d)} is listed twice`)
  }
  for (const key of ['start', 'end'] as const) {
    if (typeof raw[key] !== 'string' || clockMinutes(raw[key] as string, key === 'end') === undefined) {
      throw new ConfigError(`${field}.${key}`, `expected a time "HH:MM" from 00:00 to ${key === 'end' ? '24:00' : '23:59'}, found ${JSON.stringify(raw[key])}`)
    }
  }
  const start = raw.start as string
  const end = raw.end as string
  if (clockMinutes(start, false) === (clockMinutes(end, true) ?? 0) % 1440) throw new ConfigError(`${field}.end`, `the window ends when it starts (${start}); for a whole day write "start": "00:00", "end": "24:00"`)
  const timeZone = raw.timeZone ?? 'UTC'
  if (typeof timeZone !== 'string' || !validTimeZone(timeZone)) throw new ConfigError(`${field}.timeZone`, `expected an IANA time zone such as "Europe/Berlin" or "UTC", found ${JSON.stringify(timeZone)}`)
  return { days: days as string[], start, end, timeZone }
}

function instant (v: unknown, field: string): string {
  if (typeof v !== 'string' || !ISO_DATE_TIME.test(v) || Number.isNaN(Date.parse(v))) {
    throw new ConfigError(field, `expected an ISO date and time with its offset, such as "2026-12-24T00:00:00Z" or "2026-12-24T00:00:00+01:00", found ${JSON.stringify(v)}`)
  }
  return v
}

function blackout (raw: unknown, field: string): Blackout {
  if (!isObject(raw)) throw new ConfigError(field, 'expected an object such as {"from": "2026-12-24T00:00:00Z", "to": "2026-12-27T00:00:00Z"}')
  onlyKeys(raw, ['from', 'to'], field)
  const from = instant(raw.from, `${field}.from`)
  const to = instant(raw.to, `${field}.to`)
  if (Date.parse(to) <= Date.parse(from)) throw new ConfigError(`${field}.to`, `the blackout ends (${to}) before it begins (${from})`)
  return { from, to }
}

/** the schema parser for `maintenance`: an object from a file, or JSON text from the environment or a flag */
export function parseMaintenance (value: unknown, field: string): MaintenanceConfig {
  let raw = value
  if (typeof value === 'string') {
    try {
      raw = JSON.parse(value)
    } catch (err) {
      throw new ConfigError(field, `expected a JSON object, found text that is not JSON (${(err as Error).message})`)
    }
  }
  if (!isObject(raw)) throw new ConfigError(field, 'expected an object such as {"windows": [{"days": ["sat"], "start": "02:00", "end": "05:00", "timeZone": "Europe/Berlin"}], "blackouts": []}')
  onlyKeys(raw, ['windows', 'blackouts'], field)
  const windows = raw.windows ?? []
  const blackouts = raw.blackouts ?? []
  if (!Array.isArray(windows) || windows.length > MAX_WINDOWS) throw new ConfigError(`${field}.windows`, `expected a list of at most ${MAX_WINDOWS} windows`)
  if (!Array.isArray(blackouts) || blackouts.length > MAX_BLACKOUTS) throw new ConfigError(`${field}.blackouts`, `expected a list of at most ${MAX_BLACKOUTS} blackouts`)
  return {
    windows: windows.map((w, i) => parseWindow(w, `${field}.windows[${i}]`)),
    blackouts: blackouts.map((b, i) => blackout(b, `${field}.blackouts[${i}]`))
  }
}

// --- wall clocks -----------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter (timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (f == null) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    formatters.set(timeZone, f)
  }
  return f
}

interface WallClock {
  year: number
  month: number
  day: number
  /** minutes since local midnight */
  minutes: number
  /** 0 = sunday */
  weekday: number
  /** the wall clock as if it were UTC, in ms (seconds included) */
  asUtc: number
}

function wallClock (t: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {}
  for (const p of formatter(timeZone).formatToParts(t)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  const hour = parts.hour % 24
  const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, hour, parts.minute, parts.second)
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    minutes: hour * 60 + parts.minute,
    weekday: new Date(Date.UTC(parts.year, parts.month - 1, parts.day)).getUTCDay(),
    asUtc
  }
}

/** the zone's offset from UTC at instant t, in ms */
function offsetAt (t: number, timeZone: string): number {
  return wallClock(t, timeZone).asUtc - Math.floor(t / 1000) * 1000
}

/**
 * The first instant whose wall clock in `timeZone` reads at least `wall`
 * (a wall-clock time written as if UTC, whole minutes): the instant itself
 * normally, the earlier one when the clocks go back over it, the moment the
 * clocks jump when they skip it.
 */
function firstInstantAtWall (wall: number, timeZone: string): number {
  const offsets = new Set([offsetAt(wall - DAY, timeZone), offsetAt(wall, timeZone), offsetAt(wall + DAY, timeZone)])
  const exact = [...offsets].map(o => wall - o).filter(t => wallClock(t, timeZone).asUtc === wall)
  if (exact.length > 0) return Math.min(...exact)
  // skipped: search minute by minute (bisection) between the two readings for the jump
  const candidates = [...offsets].map(o => wall - o)
  let lo = Math.min(...candidates)
  let hi = Math.max(...candidates)
  if (wallClock(lo, timeZone).asUtc >= wall) return lo
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE
    if (wallClock(mid, timeZone).asUtc >= wall) hi = mid
    else lo = mid
  }
  return hi
}

function windowMinutes (w: MaintenanceWindow): { start: number, end: number } {
  return { start: clockMinutes(w.start, false) ?? 0, end: clockMinutes(w.end, true) ?? 0 }
}

function dayListed (w: MaintenanceWindow, weekday: number): boolean {
  return w.days.length === 0 || w.days.includes(DAYS[weekday])
}

function insideWindow (w: MaintenanceWindow, t: number): boolean {
  const { start, end } = windowMinutes(w)
  const clock = wallClock(t, w.timeZone)
  if (start < end) return clock.minutes >= start && clock.minutes < end && dayListed(w, clock.weekday)
  // spans midnight: the evening part belongs to today, the morning part to the day before
  if (clock.minutes >= start) return dayListed(w, clock.weekday)
  if (clock.minutes < end) return dayListed(w, (clock.weekday + 6) % 7)
  return false
}

/** the first start of window `w` after t, looking SEARCH_DAYS ahead */
function nextWindowStart (w: MaintenanceWindow, t: number): number | undefined {
  const { start } = windowMinutes(w)
  const today = wallClock(t, w.timeZone)
  for (let k = 0; k <= SEARCH_DAYS; k++) {
    const midnight = Date.UTC(today.year, today.month - 1, today.day + k)
    if (!dayListed(w, new Date(midnight).getUTCDay())) continue
    const at = firstInstantAtWall(midnight + start * MINUTE, w.timeZone)
    if (at > t) return at
  }
  return undefined
}

function blackoutAt (cfg: MaintenanceConfig, t: number): Blackout | undefined {
  return cfg.blackouts.find(b => Date.parse(b.from) <= t && t < Date.parse(b.to))
}

function describe (w: MaintenanceWindow): string {
  return `${w.days.length === 0 ? 'daily' : w.days.join(',')} ${w.start}-${w.end} ${w.timeZone}`
}

/** t as ISO 8601 in the wall clock of `timeZone`, with its offset: 2026-11-24T02:00:00+01:00 */
export function formatInZone (t: number, timeZone: string): string {
  const clock = wallClock(t, timeZone)
  const offset = Math.round((clock.asUtc - Math.floor(t / 1000) * 1000) / MINUTE)
  const local = new Date(clock.asUtc).toISOString().slice(0, 19)
  if (offset === 0) return `${local}${timeZone === 'UTC' ? 'Z' : '+00:00'}`
  const abs = Math.abs(offset)
  return `${local}${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

/** the earliest instant at or after t when installs are allowed, or undefined within the search */
function nextAllowed (cfg: MaintenanceConfig, t: number, critical: boolean): number | undefined {
  const useWindows = !critical && cfg.windows.length > 0
  for (let i = 0; i < 4 * (MAX_BLACKOUTS + MAX_WINDOWS * SEARCH_DAYS); i++) {
    const b = blackoutAt(cfg, t)
    if (b != null) {
      t = Date.parse(b.to)
      continue
    }
    if (!useWindows || cfg.windows.some(w => insideWindow(w, t))) return t
    const starts = cfg.windows.map(w => nextWindowStart(w, t)).filter((s): s is number => s != null)
    if (starts.length === 0) return undefined
    t = Math.min(...starts)
  }
  return undefined
}

/** whether installs may happen now (rules in the file header), why, and if not, when they may */
export function installAllowed (cfg: MaintenanceConfig, now: Date, critical: boolean): { allowed: boolean, reason: string, nextAt?: Date } {
  const t = now.getTime()
  const when = (at: number | undefined): { nextAt?: Date, text: string } => {
    if (at == null) return { text: `none within ${SEARCH_DAYS} days` }
    const zone = cfg.windows.find(w => insideWindow(w, at))?.timeZone ?? cfg.windows[0]?.timeZone ?? 'UTC'
    return { nextAt: new Date(at), text: formatInZone(at, zone) }
  }
  const b = blackoutAt(cfg, t)
  if (b != null) {
    const next = when(nextAllowed(cfg, t, critical))
    return {
      allowed: false,
      reason: `inside the blackout from ${b.from} to ${b.to}${critical ? ' (a critical release bypasses maintenance windows, not blackouts)' : ''}; installs may resume ${next.text}`,
      ...(next.nextAt != null ? { nextAt: next.nextAt } : {})
    }
  }
  if (cfg.windows.length === 0) return { allowed: true, reason: 'no maintenance windows: installs may happen at any time outside blackouts' }
  const inside = cfg.windows.find(w => insideWindow(w, t))
  if (inside != null) return { allowed: true, reason: `inside the maintenance window ${describe(inside)}` }
  if (critical) return { allowed: true, reason: 'outside the maintenance windows, but the release is critical' }
  const next = when(nextAllowed(cfg, t, false))
  return {
    allowed: false,
    reason: `outside the maintenance windows; next window opens ${next.text}`,
    ...(next.nextAt != null ? { nextAt: next.nextAt } : {})
  }
}
