/**
 * Value parsers for the config schema. A value comes either typed, from a
 * JSON file, or as text, from an environment variable or a flag; each parser
 * accepts both and throws a ConfigError naming the field and what it expected.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { ConfigError } from '../errors.js'

export type Parser<T> = (value: unknown, field: string) => T

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `"${value.length > 60 ? value.slice(0, 60) + '…' : value}"`
  return `${typeof value} ${JSON.stringify(value)}`
}

export const text = (pattern?: RegExp, hint?: string): Parser<string> => (value, field) => {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigError(field, `expected a non-empty string, found ${describe(value)}`)
  }
  if (pattern != null && !pattern.test(value)) {
    throw new ConfigError(field, `expected ${hint ?? `a string matching ${String(pattern)}`}, found ${describe(value)}`)
  }
  return value
}

export const integer = (min: number, max: number): Parser<number> => (value, field) => {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(field, `expected an integer from ${min} to ${max}, found ${describe(value)}`)
  }
  return n
}

export const boolean: Parser<boolean> = (value, field) => {
  if (typeof value === 'boolean') return value
  if (value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw new ConfigError(field, `expected true or false, found ${describe(value)}`)
}

export const oneOf = <T extends string>(values: readonly T[]): Parser<T> => (value, field) => {
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw new ConfigError(field, `expected one of ${values.join(', ')}, found ${describe(value)}`)
  }
  return value as T
}

/** A list: a JSON array, or comma-separated text (environment, flags). */
export const list = <T>(item: Parser<T>): Parser<T[]> => (value, field) => {
  const items = typeof value === 'string'
    ? value.split(',').map(s => s.trim()).filter(s => s.length > 0)
    : value
  if (!Array.isArray(items)) {
    throw new ConfigError(field, `expected a list, found ${describe(value)}`)
  }
  return items.map((v, i) => item(v, `${field}[${i}]`))
}

export const multiaddrText: Parser<string> = (value, field) => {
  const s = text()(value, field)
  try {
    return multiaddr(s).toString()
  } catch (err) {
    throw new ConfigError(field, `expected a multiaddr such as /ip4/127.0.0.1/tcp/4090, found ${describe(value)} (${(err as Error).message})`)
  }
}

/** A multiaddr that names its peer: `.../p2p/<peer id>`. */
export const peerMultiaddrText: Parser<string> = (value, field) => {
  const s = multiaddrText(value, field)
  const p2p = multiaddr(s).getComponents().filter(c => c.name === 'p2p').pop()
  if (p2p?.value == null) {
    throw new ConfigError(field, `expected a multiaddr ending in /p2p/<peer id>, found ${describe(value)}`)
  }
  return s
}

export const peerIdText: Parser<string> = (value, field) => {
  const s = text()(value, field)
  try {
    return peerIdFromString(s).toString()
  } catch {
    throw new ConfigError(field, `expected a peer id (12D3Koo… or Qm…), found ${describe(value)}`)
  }
}

const RATE_UNITS: Record<string, number> = {
  '': 1, b: 1, bps: 1,
  kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
  kbit: 1000 / 8, mbit: 1000 ** 2 / 8, gbit: 1000 ** 3 / 8
}

/**
 * A rate in bytes per second: 0 (no limit), a number of bytes per second, or
 * text with a unit: `20Mbit` (bits, 1000-based), `2.5MB` (bytes, 1000-based),
 * `512KiB` (bytes, 1024-based), optionally ending in `/s`.
 */
export const rate: Parser<number> = (value, field) => {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.round(value)
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)(?:\/s)?\s*$/.exec(value) : null
  const unit = RATE_UNITS[m?.[2]?.toLowerCase() ?? 'none']
  if (m == null || unit === undefined) {
    throw new ConfigError(field, `expected a rate such as 20Mbit, 2.5MB, 512KiB or a number of bytes per second (0: no limit), found ${describe(value)}`)
  }
  const bytes = Math.round(Number(m[1]) * unit)
  if (bytes > 1e12) throw new ConfigError(field, `expected a rate of at most 1 TB/s, found ${describe(value)}`)
  return bytes
}

/** HOST:PORT for a TCP listener: an IPv4 address, a name, or [IPv6]; port 0 picks a free one */
export const hostPort: Parser<string> = (value, field) => {
  const s = text()(value, field)
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s)
  if (m == null || Number(m[2]) > 65535) {
    throw new ConfigError(field, `expected HOST:PORT such as 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080, found ${describe(value)}`)
  }
  return s
}

/** A size in bytes: a number, or text with a unit (512MiB, 2GB, 100KB) */
export const size: Parser<number> = (value, field) => {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value) : null
  const unit = RATE_UNITS[m?.[2]?.toLowerCase() ?? 'none']
  const bytes = m == null || unit === undefined || m[2].toLowerCase().endsWith('bit') ? NaN : Math.round(Number(m[1]) * unit)
  if (!Number.isFinite(bytes) || bytes < 1 || bytes > 1024 ** 4) {
    throw new ConfigError(field, `expected a size from 1 byte to 1 TiB such as 512MiB, 2GB or a number of bytes, found ${describe(value)}`)
  }
  return bytes
}
