/**
 * API tokens: `umesh api token create | list | revoke` and the HTTP
 * listener's check. A token is `umesh_<id>_<secret>`: the id names the entry,
 * the secret (32 random bytes) is shown once and kept only as its sha256 in
 * `<dataDir>/api-tokens.json` (mode 0600). A check finds the entry by id and
 * compares the hashes in constant time. The file is re-read when it changes
 * (its mtime and size), so a created or revoked token counts at once,
 * without a restart.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { UsageError } from '../errors.js'
import { writeFileAtomic } from '../util/fs.js'

export const ROLES = ['read', 'operate'] as const
export type Role = typeof ROLES[number]

export const TOKEN_FILE_FORMAT = 'umesh-api-tokens/1'
/** tokens one data dir may hold */
export const MAX_TOKENS = 256
const NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$/
const TOKEN = /^umesh_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/

export interface TokenEntry {
  id: string
  name: string
  role: Role
  /** hex sha256 of the secret part */
  sha256: string
  created: string
}

/** what `list` shows: never the hash */
export type TokenInfo = Omit<TokenEntry, 'sha256'>

export interface TokenFile {
  format: typeof TOKEN_FILE_FORMAT
  tokens: TokenEntry[]
}

function sha256 (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

export class TokenStore {
  private cache?: { key: string, tokens: TokenEntry[] }

  constructor (readonly file: string) {}

  /** every token, re-read when the file changed; a damaged file is an error, never "no tokens" */
  entries (): TokenEntry[] {
    if (!existsSync(this.file)) {
      this.cache = undefined
      return []
    }
    const st = statSync(this.file)
    const key = `${st.mtimeMs}:${st.size}:${st.ino}`
    if (this.cache?.key === key) return this.cache.tokens
    const tokens = parseTokenFile(readFileSync(this.file, 'utf8'), this.file)
    this.cache = { key, tokens }
    return tokens
  }

  list (): TokenInfo[] {
    return this.entries().map(({ sha256, ...info }) => info)
  }

  get size (): number {
    return this.entries().length
  }

  /** a new token; the returned text is the only time the secret exists outside the caller */
  create (name: string, role: Role): { token: string, info: TokenInfo } {
    if (!NAME.test(name)) throw new UsageError(`--name: expected 1-64 letters, digits, space, . _ - (e.g. ci-pipeline), found ${JSON.stringify(name)}`)
    if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role: expected read or operate, found ${JSON.stringify(role)}`)
    const tokens = this.entries()
    if (tokens.some(t => t.name === name)) throw new UsageError(`a token named ${JSON.stringify(name)} exists; revoke it first (umesh api token revoke ${name}) or choose another name`)
    if (tokens.length >= MAX_TOKENS) throw new UsageError(`this data dir holds ${tokens.length} tokens, the most it keeps; revoke some first`)
    const id = randomBytes(6).toString('hex')
    const secret = randomBytes(32).toString('base64url')
    const entry: TokenEntry = { id, name, role, sha256: sha256(secret).toString('hex'), created: new Date().toISOString() }
    this.write([...tokens, entry])
    const { sha256: _, ...info } = entry
    return { token: `umesh_${id}_${secret}`, info }
  }

  /** removes a token by name or id; false when there is none */
  revoke (nameOrId: string): TokenInfo | undefined {
    const tokens = this.entries()
    const found = tokens.find(t => t.name === nameOrId || t.id === nameOrId)
    if (found == null) return undefined
    this.write(tokens.filter(t => t !== found))
    const { sha256: _, ...info } = found
    return info
  }

  /** the token's entry when the bearer text is a valid, unrevoked token */
  verify (bearer: string): TokenInfo | undefined {
    const tokens = this.entries()
    const m = TOKEN.exec(bearer)
    // an unknown id still costs one hash and one comparison, like a known one
    const entry = m == null ? undefined : tokens.find(t => t.id === m[1])
    const given = sha256(m?.[2] ?? bearer)
    const stored = entry != null ? Buffer.from(entry.sha256, 'hex') : Buffer.alloc(32)
    const same = timingSafeEqual(given, stored)
    if (entry == null || !same) return undefined
    const { sha256: _, ...info } = entry
    return info
  }

  private write (tokens: TokenEntry[]): void {
    const file: TokenFile = { format: TOKEN_FILE_FORMAT, tokens }
    writeFileAtomic(this.file, JSON.stringify(file, null, 2) + '\n', 0o600)
    this.cache = undefined
  }
}

export function parseTokenFile (text: string, file: string): TokenEntry[] {
  let json: any
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${file} is not JSON (${(err as Error).message}); restore it from a backup or remove it and create new tokens`)
  }
  if (json?.format !== TOKEN_FILE_FORMAT || !Array.isArray(json.tokens)) {
    throw new UsageError(`${file}: expected {"format": "${TOKEN_FILE_FORMAT}", "tokens": [...]}; restore it or remove it and create new tokens`)
  }
  return json.tokens.map((t: any, i: number) => {
    const ok = typeof t?.id === 'string' && /^[a-f0-9]{12}$/.test(t.id) &&
      typeof t.name === 'string' && (ROLES as readonly string[]).includes(t.role) &&
      typeof t.sha256 === 'string' && /^[a-f0-9]{64}$/.test(t.sha256) && typeof t.created === 'string'
    if (!ok) throw new UsageError(`${file}: tokens[${i}] is malformed; revoke it by editing the file, or remove the file and create new tokens`)
    return { id: t.id, name: t.name, role: t.role, sha256: t.sha256, created: t.created }
  })
}
