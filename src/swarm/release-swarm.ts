/**
 * One release's swarm as this node sees it: the pieces (the release's
 * distinct chunks, in index order), which of them this node holds, and a have
 * session with each peer that fetches or holds the release too, with what
 * that peer holds. Peers in sessions count towards each piece's
 * availability, which the piece picker (downloads) and the upload scheduler
 * (rare pieces first) read. A download, when one runs, hears of every change.
 */
import { HaveSession } from '../../protocols/have/index.js'
import { Bitfield } from '../../protocols/shared/index.js'
import type { HaveHello } from '../../protocols/have/index.js'
import type { StreamOpener } from '../../protocols/shared/index.js'
import type { Logger, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** a release's distinct chunks in index order, with their sizes */
export interface Pieces {
  cids: CID[]
  sizes: number[]
}

export interface SwarmPeer {
  id: PeerId
  key: string
  session: HaveSession
  /** what the peer holds, as it said; checked chunk by chunk when it sends */
  have: Bitfield
  /** pieces the peer said it is fetching and does not hold yet */
  fetching: Set<number>
}

/** what a running download hears from the swarm */
export interface SwarmListener {
  peerJoined: (peer: SwarmPeer) => void
  peerHas: (peer: SwarmPeer, piece: number) => void
  peerLeft: (peer: SwarmPeer) => void
}

export interface ReleaseSwarmInit {
  release: CID
  pieces: Pieces
  held: Bitfield
  self: PeerId
  opener: StreamOpener
  network: string
  log: Logger
}

export class ReleaseSwarm {
  readonly key: string
  readonly count: number
  readonly held: Bitfield
  readonly pieces: Pieces
  /** piece number of each chunk CID */
  readonly index = new Map<string, number>()
  /** peers in sessions that hold each piece */
  readonly availability: Uint32Array
  /** peers in sessions that said they are fetching each piece (a hint for the picker) */
  readonly fetching: Uint32Array
  readonly peers = new Map<string, SwarmPeer>()
  listener?: SwarmListener
  /** piece requests a running download has out to peers now (an end-game piece asked of two peers counts twice) */
  requested = 0
  lastUsed = Date.now()
  private readonly opening = new Map<string, Promise<boolean>>()

  constructor (private readonly init: ReleaseSwarmInit) {
    this.key = init.release.toString()
    this.pieces = init.pieces
    this.count = init.pieces.cids.length
    this.held = init.held
    this.availability = new Uint32Array(this.count)
    this.fetching = new Uint32Array(this.count)
    init.pieces.cids.forEach((cid, i) => this.index.set(cid.toString(), i))
  }

  /** our first message in a session */
  hello (): HaveHello {
    this.lastUsed = Date.now()
    return { release: this.init.release.bytes, count: this.count, bitfield: this.held.bytes.slice() }
  }

  /**
   * Opens a session with `peer` unless one is open; true when there is one
   * afterwards, false when the peer does not know the release yet. Throws
   * when the peer cannot be reached or breaks the protocol.
   */
  async connect (peer: PeerId): Promise<boolean> {
    const key = peer.toString()
    if (this.peers.has(key)) return true
    const pending = this.opening.get(key)
    if (pending != null) return await pending
    const attempt = (async () => {
      const session = await HaveSession.open(this.init.opener, peer, this.init.network, this.hello())
      if (session == null) return false
      this.adopt(session, true)
      return true
    })()
    this.opening.set(key, attempt)
    try {
      return await attempt
    } finally {
      this.opening.delete(key)
    }
  }

  /** takes a session (opened by either side) into the swarm */
  adopt (session: HaveSession, initiator: boolean): void {
    const key = session.peer.toString()
    if (session.remote.count !== this.count) {
      session.close(new Error(`peer ${key} counts ${session.remote.count} pieces in release ${this.key}, not ${this.count}`))
      return
    }
    const existing = this.peers.get(key)
    if (existing != null) {
      // both sides opened at once: keep the session the smaller peer id opened, on both sides
      const selfOpenedNew = initiator
      const selfSmaller = this.init.self.toString() < key
      if (selfOpenedNew !== selfSmaller) {
        session.close()
        return
      }
      this.remove(existing)
      existing.session.close()
    }
    this.lastUsed = Date.now()
    const peer: SwarmPeer = { id: session.peer, key, session, have: new Bitfield(this.count, session.remote.bitfield), fetching: new Set() }
    this.peers.set(key, peer)
    for (let i = 0; i < this.count; i++) if (peer.have.has(i)) this.availability[i]++
    session.events = {
      onAdded: (pieces) => {
        for (const i of pieces) {
          if (peer.fetching.delete(i)) this.fetching[i]--
          if (!peer.have.set(i)) continue
          this.availability[i]++
          this.listener?.peerHas(peer, i)
        }
        this.closeIfDone(peer)
      },
      onFetching: (pieces) => {
        // bounded by the piece count: a peer can claim each piece once
        for (const i of pieces) {
          if (peer.have.has(i) || peer.fetching.has(i)) continue
          peer.fetching.add(i)
          this.fetching[i]++
        }
      },
      onClose: (err) => {
        if (err != null) this.init.log('have session with %p about %s ended - %e', session.peer, this.key, err)
        if (this.peers.get(key) === peer) this.remove(peer)
      }
    }
    session.start()
    // pieces that arrived after our hello was made (while the session opened) are told now
    const told = new Bitfield(this.count, session.local.bitfield)
    for (let i = 0; i < this.count; i++) if (this.held.has(i) && !told.has(i)) session.announce(i)
    this.listener?.peerJoined(peer)
    this.closeIfDone(peer)
  }

  /** this node asked a peer for these pieces: every peer hears of it, so it asks for others first */
  markFetching (pieces: number[]): void {
    for (const peer of this.peers.values()) {
      if (peer.have.complete) continue
      for (const i of pieces) peer.session.announceFetching(i)
    }
  }

  /** a piece is now held here: every peer hears of it */
  markHeld (i: number): void {
    if (!this.held.set(i)) return
    this.lastUsed = Date.now()
    for (const peer of this.peers.values()) {
      peer.session.announce(i)
      this.closeIfDone(peer)
    }
  }

  /** a peer said it held piece i and then did not send it */
  peerLacks (peer: SwarmPeer, i: number): void {
    if (peer.have.unset(i) && this.availability[i] > 0) this.availability[i]--
  }

  /** ends every session */
  close (): void {
    for (const peer of [...this.peers.values()]) peer.session.close()
  }

  private remove (peer: SwarmPeer): void {
    this.peers.delete(peer.key)
    this.lastUsed = Date.now()
    for (const i of peer.fetching) this.fetching[i]--
    peer.fetching.clear()
    for (let i = 0; i < this.count; i++) if (peer.have.has(i) && this.availability[i] > 0) this.availability[i]--
    this.listener?.peerLeft(peer)
  }

  /** two complete holders have nothing to tell each other */
  private closeIfDone (peer: SwarmPeer): void {
    if (this.held.complete && peer.have.complete) peer.session.close()
  }
}
