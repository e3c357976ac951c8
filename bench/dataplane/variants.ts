/**
 * What the libp2p layers of the data-plane benchmark (yamux, chunks) are
 * built from, by name: `--variants stock,NAME` runs each selected variant
 * beside the others in the same run, so a change to the data plane (a
 * transport that coalesces reads, QUIC, another muxer or its options) is one
 * entry here and prints next to the stock figures.
 *
 * `stock` is libp2p's own tcp(), noise(), yamux() with default options, the
 * baseline every change is measured against. The daemon wraps tcp() in
 * paced reads (src/network/create-node.ts, readHoldMs 5 by default:
 * `paced5`) and yamux() in window updates at half the window (`halfwin`);
 * both together are `daemon`. A variant gives the libp2p options its nodes are
 * made with and the address a sender listens on; reads are counted on TCP
 * sockets, so a variant without one (QUIC) shows none.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { pacedReads } from '../../src/network/paced-reads.js'
import { windowUpdatesAtHalf } from '../../src/network/window-updates.js'
import type { Libp2pOptions } from 'libp2p'

export interface Variant {
  /** one line for the benchmark's header */
  description: string
  /** the sender's listen multiaddr on this IPv4 address */
  listen: (ip: string) => string
  /** transports, encrypters, muxers, and any other option of createLibp2p (or a promise of them: a variant may import its modules) */
  options: () => VariantOptions | Promise<VariantOptions>
}

type VariantOptions = Pick<Libp2pOptions, 'transports' | 'connectionEncrypters' | 'streamMuxers'> & Partial<Libp2pOptions>

const tcpListen = (ip: string): string => `/ip4/${ip}/tcp/0`

export const VARIANTS: Record<string, Variant> = {
  stock: {
    description: 'tcp(), noise(), yamux() with their defaults: the libp2p stack as it comes (a daemon adds paced reads and half-window updates: daemon)',
    listen: tcpListen,
    options: () => ({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  },
  ...Object.fromEntries([2, 5, 10].map(ms => [`paced${ms}`, {
    description: `stock, but TCP reads paced (src/network/paced-reads.ts): within a flow of small reads, ${ms} ms without reading so the kernel gathers packets`,
    listen: tcpListen,
    options: () => ({ transports: [pacedReads(tcp(), { holdMs: ms })], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  }])),
  halfwin: {
    description: 'stock, but Yamux window updates once half a stream\'s window is used, not after every frame (src/network/window-updates.ts)',
    listen: tcpListen,
    options: () => ({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [windowUpdatesAtHalf(yamux())] })
  },
  daemon: {
    description: 'the daemon\'s stack: paced5 and halfwin together',
    listen: tcpListen,
    options: () => ({ transports: [pacedReads(tcp(), { holdMs: 5 })], connectionEncrypters: [noise()], streamMuxers: [windowUpdatesAtHalf(yamux())] })
  },
  quic: {
    description: '@chainsafe/libp2p-quic quic() alone (quinn in Rust through napi: its own TLS 1.3 and streams; no TCP socket, so no reads counted)',
    listen: (ip) => `/ip4/${ip}/udp/0/quic-v1`,
    options: async () => {
      // imported by name at run time: the other variants build and run without the package
      const name = '@chainsafe/libp2p-quic'
      const { quic } = await import(name).catch((err: Error) => {
        throw new Error(`variant quic needs ${name}: ${err.message}`)
      }) as { quic: () => any }
      return { transports: [quic()], connectionEncrypters: [], streamMuxers: [] }
    }
  }
}

export const DEFAULT_VARIANT = 'stock'
