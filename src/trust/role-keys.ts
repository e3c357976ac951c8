/**
 * Ed25519 keys for TUF roles, one key per file (mode 0600) so that root keys
 * can be carried to separate offline machines and brought back only to sign
 * a new root. Key ids follow the TUF spec: the SHA-256 of the canonical JSON
 * of the public key. Signing uses @noble/ed25519; verification stays with
 * tuf-js and node:crypto.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import * as ed from '@noble/ed25519'
import { canonicalize } from '@tufjs/canonical-json'
import { Key, Signature } from '@tufjs/models'
import { toString as toHex, fromString as fromHex } from 'uint8arrays'
import { writeFileAtomic } from '../util/fs.js'
import { TrustError } from './errors.js'
import type { Metadata } from '@tufjs/models'

// noble's synchronous sign needs a SHA-512; node:crypto's is the fast one
ed.hashes.sha512 = (message: Uint8Array) => new Uint8Array(createHash('sha512').update(message).digest())

export interface RoleKey {
  keyId: string
  role: string
  publicKey: string
  /** hex seed; absent when only the public half is known */
  privateKey?: string
  /** the file it was read from or written to */
  file?: string
}

interface RoleKeyFile {
  keytype: 'ed25519'
  scheme: 'ed25519'
  keyid: string
  role: string
  keyval: { public: string, private: string }
}

export function keyIdOf (publicKeyHex: string): string {
  const canonical = canonicalize({ keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicKeyHex } })
  return createHash('sha256').update(canonical).digest('hex')
}

export function generateRoleKey (role: string): RoleKey {
  const seed = ed.utils.randomSecretKey()
  const publicKey = toHex(ed.getPublicKey(seed), 'base16')
  return { keyId: keyIdOf(publicKey), role, publicKey, privateKey: toHex(seed, 'base16') }
}

/** the TUF Key object for root or delegation metadata */
export function tufKey (key: RoleKey): Key {
  return new Key({ keyID: key.keyId, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: key.publicKey } })
}

export function saveRoleKey (dir: string, key: RoleKey): string {
  if (key.privateKey == null) throw new TrustError(`cannot save key ${key.keyId}: its private half is not known`)
  const file = join(dir, `${key.role}-${key.keyId.slice(0, 12)}.json`)
  const content: RoleKeyFile = { keytype: 'ed25519', scheme: 'ed25519', keyid: key.keyId, role: key.role, keyval: { public: key.publicKey, private: key.privateKey } }
  writeFileAtomic(file, JSON.stringify(content, null, 2) + '\n', 0o600)
  key.file = file
  return file
}

export function loadRoleKey (file: string): RoleKey {
  const mode = statSync(file).mode & 0o777
  if ((mode & 0o077) !== 0) {
    throw new TrustError(`${file} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`)
  }
  let content: RoleKeyFile
  try {
    content = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new TrustError(`${file} is not a key file (${(err as Error).message})`)
  }
  const seed = content?.keyval?.private
  if (content?.keytype !== 'ed25519' || typeof seed !== 'string' || !/^[0-9a-f]{64}$/.test(seed)) {
    throw new TrustError(`${file} is not an ed25519 role key file`)
  }
  const publicKey = toHex(ed.getPublicKey(fromHex(seed, 'base16')), 'base16')
  if (publicKey !== content.keyval.public || keyIdOf(publicKey) !== content.keyid) {
    throw new TrustError(`${file} is damaged: its private key, public key and key id do not agree; restore it from a backup`)
  }
  return { keyId: content.keyid, role: content.role, publicKey, privateKey: seed, file }
}

/** every key file in `dir` for `role`, by key id */
export function loadRoleKeys (dir: string, role: string, files: string[]): Map<string, RoleKey> {
  const keys = new Map<string, RoleKey>()
  for (const name of files.filter(f => f.startsWith(`${role}-`) && f.endsWith('.json'))) {
    const key = loadRoleKey(join(dir, name))
    if (key.role === role) keys.set(key.keyId, key)
  }
  return keys
}

export function signWith (metadata: Metadata<any>, keys: RoleKey[]): void {
  for (const key of keys) {
    if (key.privateKey == null) throw new TrustError(`cannot sign with key ${key.keyId}: its private half is not here`)
    const seed = fromHex(key.privateKey, 'base16')
    metadata.sign(data => new Signature({ keyID: key.keyId, sig: toHex(ed.sign(new Uint8Array(data), seed), 'base16') }), true)
  }
}

export function keyFileExists (dir: string, key: RoleKey): boolean {
  return existsSync(join(dir, `${key.role}-${key.keyId.slice(0, 12)}.json`))
}
