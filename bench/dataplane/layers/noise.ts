/**
 * The `noise` layer: the TCP connection libp2p makes (@libp2p/tcp's
 * transport and its MultiaddrConnection around the socket) secured by
 * @chainsafe/libp2p-noise, with no muxer. libp2p's upgrader would first pick
 * the encrypter by multistream-select, then a muxer; here an upgrader that
 * does only the encryption hands the secured MessageStream over, so every
 * read travels socket -> MultiaddrConnection -> Noise's decoder and decrypt
 * -> the secured stream's 'message' event, as in a node, minus Yamux. No
 * muxer is negotiated (skipStreamMuxerNegotiation), the XX handshake and the
 * identity check are the same as a node's.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { Puller, serve, streamPipe } from '../pull.js'
import type { EndConfig, SenderAddress } from '../messages.js'
import type { Connection, ConnectionEncrypter, Listener, MessageStream, MultiaddrConnection, Upgrader } from '@libp2p/interface'

const HANDSHAKE_TIMEOUT_MS = 10_000

/**
 * A signal that aborts after the handshake timeout unless cleared. Not
 * AbortSignal.timeout(): @libp2p/tcp hands the dial's signal to
 * net.connect(), which destroys the socket whenever it fires, also after the
 * connection is up (libp2p's own dials clear theirs once connected).
 */
async function withTimeout<T> (fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new Error(`no secured connection within ${HANDSHAKE_TIMEOUT_MS} ms`)) }, HANDSHAKE_TIMEOUT_MS)
  try {
    return await fn(controller.signal)
  } finally {
    clearTimeout(timer)
  }
}

async function encrypter (): Promise<ConnectionEncrypter> {
  const privateKey = await generateKeyPair('Ed25519')
  const upgrader = { getStreamMuxers: () => new Map() } as unknown as Upgrader
  return noise()({ peerId: peerIdFromPrivateKey(privateKey), privateKey, logger: defaultLogger(), upgrader })
}

/** an upgrader that only encrypts: the secured stream goes to `secured` */
function encryptOnly (enc: ConnectionEncrypter, secured: (stream: MessageStream) => void, onError: (err: Error) => void): Upgrader {
  const upgrade = (direction: 'inbound' | 'outbound') => async (maConn: MultiaddrConnection): Promise<Connection> => {
    try {
      const { connection } = await withTimeout(async (signal) => {
        const options = { signal, skipStreamMuxerNegotiation: true }
        return direction === 'inbound' ? await enc.secureInbound(maConn, options) : await enc.secureOutbound(maConn, options)
      })
      secured(connection)
      return connection as unknown as Connection
    } catch (err) {
      onError(err as Error)
      throw err
    }
  }
  return { upgradeInbound: upgrade('inbound'), upgradeOutbound: upgrade('outbound') } as unknown as Upgrader
}

export async function noiseSender (config: EndConfig, onError: (err: Error) => void): Promise<{ address: SenderAddress, listener: Listener }> {
  const upgrader = encryptOnly(await encrypter(), (stream) => { serve(streamPipe(stream), config.writeBytes, onError) }, onError)
  const listener = tcp()({ logger: defaultLogger() }).createListener({ upgrader })
  await listener.listen(multiaddr(`/ip4/${config.host}/tcp/0`))
  return { address: { multiaddrs: listener.getAddrs().map(String) }, listener }
}

export async function noiseReceiver (config: EndConfig, onError: (err: Error) => void): Promise<Puller> {
  let stream: MessageStream | undefined
  const upgrader = encryptOnly(await encrypter(), (s) => { stream = s }, onError)
  const target = config.target?.multiaddrs?.[0]
  if (target == null) throw new Error('the noise receiver has no address to dial')
  await withTimeout(async (signal) => await tcp()({ logger: defaultLogger() }).dial(multiaddr(target), { upgrader, signal }))
  if (stream == null) throw new Error('the noise handshake gave no stream')
  return new Puller(streamPipe(stream), config.segmentBytes)
}
