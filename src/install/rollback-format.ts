/**
 * The on-disk format of a rollback point, shared by taking one and restoring
 * it: both must agree byte for byte, so the layout, the manifest's shape and
 * the bindings that make it tamper-evident are written down once, here.
 *
 * `backups/<id>/files/<n>` holds each file's bytes (AES-256-GCM with a fresh
 * 12-byte IV per file when a key is given: IV, ciphertext, 16-byte tag);
 * `manifest.json`, written atomically and last, lists every path with its
 * kind (file, folder, absent), mode, size and plaintext sha256. An encrypted
 * backup's manifest carries an HMAC under a key derived from the backup key,
 * and each stored file's ciphertext is bound (AAD) to its backup, name and
 * path, so neither can be edited or swapped to restore bytes elsewhere.
 */
import { createHmac } from 'node:crypto'
import { readSync, writeSync } from 'node:fs'
import { sep } from 'node:path'
import { UmeshError } from '../errors.js'

export const MANIFEST_FILE = 'manifest.json'
export const FORMAT = 'umesh-backup/1'
export const FILES_DIR = 'files'
export const IV_BYTES = 12
export const TAG_BYTES = 16
/** bytes read or written at a time */
export const PIECE = 1024 * 1024
export const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
export const STORED = /^files\/\d{1,9}$/

export class RollbackPointError extends UmeshError {
  override readonly name = 'RollbackPointError'
}

/** a stored file or the manifest does not match; nothing was restored */
export class RollbackPointCorruptError extends UmeshError {
  override readonly name = 'RollbackPointCorruptError'
}

export interface RollbackEntry {
  /** absolute */
  path: string
  kind: 'file' | 'dir' | 'absent'
  mode: number
  /** plaintext bytes (files) */
  size: number
  /** hex sha256 of the plaintext (files) */
  sha256: string
  /** where its bytes are, relative to the backup folder (files) */
  stored: string
}

export interface RollbackManifest {
  format: typeof FORMAT
  id: string
  package: string
  version: string | null
  created: string
  encrypted: boolean
  /** the saved paths as given; every entry is one of them or inside one */
  statePaths: string[]
  entries: RollbackEntry[]
  /** plaintext bytes of all files */
  bytes: number
  /** encrypted backups: HMAC-SHA256 of the manifest without this field */
  mac?: string
}

export function checkId (id: string): string {
  if (!ID.test(id)) throw new RollbackPointError(`rollback point id ${JSON.stringify(id)} is not 1-128 letters, digits, . _ - (starting with a letter or digit)`)
  return id
}

function macKey (key: Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${FORMAT} manifest`).digest()
}

export function manifestMac (key: Uint8Array, body: Omit<RollbackManifest, 'mac'>): string {
  return createHmac('sha256', macKey(key)).update(JSON.stringify(body)).digest('hex')
}

/** binds a stored file's ciphertext to its backup, name and path */
export function aad (id: string, entry: RollbackEntry): Buffer {
  return Buffer.from(`${FORMAT}\0${id}\0${entry.stored}\0${entry.path}`)
}

export function inside (path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)
}

export function writeAll (fd: number, bytes: Uint8Array): void {
  let off = 0
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
}

export function readAt (fd: number, buf: Buffer, length: number, position: number): number {
  let got = 0
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got)
    if (n === 0) break
    got += n
  }
  return got
}
