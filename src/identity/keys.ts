/**
 * The node's Ed25519 identity: created once in the data dir (mode 0600) and
 * reused. On load the key is checked against itself (public key derived from
 * the seed) and against the stored peer id, so a damaged or swapped file is
 * refused instead of silently becoming a different node.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import * as ed from '@noble/ed25519'
import { generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { fromString, toString } from 'uint8arrays'
import { equals } from 'uint8arrays/equals'
import { IdentityError } from '../errors.js'
import { writeFileAtomic } from '../util/fs.js'
import { DATA_FILES, dataPaths } from '../data-dir/index.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

export const IDENTITY_FILE = DATA_FILES.identity

export interface Identity {
  privateKey: PrivateKey
  peerId: PeerId
  created: boolean
}

interface IdentityFile {
  version: 1
  type: 'Ed25519'
  peerId: string
  privateKey: string
}

export function identityPath (dataDir: string): string {
  return dataPaths(dataDir).identity
}

export async function createIdentity (dataDir: string): Promise<Identity> {
  const privateKey = await generateKeyPairFromSeed('Ed25519', ed.utils.randomSecretKey())
  const peerId = peerIdFromPrivateKey(privateKey)
  const file: IdentityFile = {
    version: 1,
    type: 'Ed25519',
    peerId: peerId.toString(),
    privateKey: toString(privateKeyToProtobuf(privateKey), 'base64pad')
  }
  writeFileAtomic(identityPath(dataDir), JSON.stringify(file, null, 2) + '\n', 0o600)
  return { privateKey, peerId, created: true }
}

export async function loadIdentity (dataDir: string): Promise<Identity> {
  const path = identityPath(dataDir)
  const mode = statSync(path).mode & 0o777
  if ((mode & 0o077) !== 0) {
    throw new IdentityError(`${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`)
  }
  let file: IdentityFile
  let privateKey: PrivateKey
  try {
    file = JSON.parse(readFileSync(path, 'utf8'))
    if (file?.type !== 'Ed25519' || typeof file.privateKey !== 'string' || typeof file.peerId !== 'string') {
      throw new Error('expected {"type": "Ed25519", "peerId", "privateKey"}')
    }
    privateKey = privateKeyFromProtobuf(fromString(file.privateKey, 'base64pad'))
  } catch (err) {
    throw new IdentityError(`${path} is damaged (${(err as Error).message}); restore it from a backup, or move it away to make this node a new peer`)
  }
  if (privateKey.type !== 'Ed25519') {
    throw new IdentityError(`${path} holds a ${privateKey.type} key; update-mesh node keys are Ed25519`)
  }
  const derived = await ed.getPublicKeyAsync(privateKey.raw.subarray(0, 32))
  if (!equals(derived, privateKey.publicKey.raw)) {
    throw new IdentityError(`${path} is damaged: its public key does not belong to its private key; restore it from a backup`)
  }
  const peerId = peerIdFromPrivateKey(privateKey)
  if (peerId.toString() !== file.peerId) {
    throw new IdentityError(`${path}: stored peer id ${file.peerId} does not match the key (which is ${peerId.toString()}); the file was edited or mixed up, restore it from a backup`)
  }
  return { privateKey, peerId, created: false }
}

export async function loadOrCreateIdentity (dataDir: string): Promise<Identity> {
  return existsSync(identityPath(dataDir)) ? await loadIdentity(dataDir) : await createIdentity(dataDir)
}
