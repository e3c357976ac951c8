/**
 * Floods on a real follower process with data, from hostile peers in this
 * process that speak the real protocols: endless answers on the sync and on
 * the chunks protocol. Each checks that the follower cut the attacker off,
 * that its memory stayed bounded, that it still updates from the honest
 * publisher, and that nothing untrusted reached its trusted metadata, its
 * mirror or its chunk store. (The attacks on trust are in
 * attacks-data-trust.test.ts; each file starts a follower of its own.)
 *
 * Traffic is bounded: a flood stops by itself after 200 MiB per stream or
 * 20 s, whichever comes first; the tests assert that the follower ended every
 * flood long before that.
 *
 * Two floods found real defects: a length prefix that never ends (endless
 * continuation bytes) was read until the request's timeout, at over 100 bytes
 * of heap per byte received (protocols/sync/length-prefix.ts), and one peer
 * that flooded its answer to the root walk failed every refresh of the
 * follower (src/trust/mesh-fetcher.ts).
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pbStream } from '@libp2p/utils'
import { ChunksRequest, ChunksResponse, MAX_CHUNK_SIZE, MAX_REQUEST_BYTES as MAX_CHUNKS_REQUEST_BYTES, chunksProtocol } from '../../protocols/chunks/index.js'
import { MAX_SUMMARY_BYTES } from '../../protocols/sync/constants.js'
import { RESPONSE_OVERHEAD_BYTES, SyncRequest, SyncResponse, syncProtocol } from '../../protocols/sync/index.js'
import { pseudoRandomBytes as pseudoRandom } from '../../src/util/pseudo-random.js'
import { attackedFollower } from '../helpers/attacked-follower.js'
import { waitFor } from '../helpers/cli.js'
import { describeFloods, flood, framed, varint } from '../helpers/floods.js'
import { watchRss } from '../helpers/rss.js'
import type { Flood } from '../helpers/floods.js'
import type { Stream } from '@libp2p/interface'

const NETWORK = 'umesh'
const MiB = 1024 * 1024
/** the follower's resident memory must stay below this while it is flooded... */
const RSS_LIMIT_MIB = 400
/** ...and grow by less than this */
const RSS_GROWTH_LIMIT_MIB = 200

describe('data attacks on a follower', () => {
  const { trustedVersion, holds, log, repo, publish, waitHolds, hostile, followerAddr, stopHostile, assertNothingUntrustedStored, followerProcess } = attackedFollower()

  it('cuts off a peer that answers every sync request with endless data, in bounded memory, and updates from the publisher', async () => {
    const floods: Array<Promise<Flood>> = []
    const junk = pseudoRandom(64 * 1024, 77)
    const ffs = new Uint8Array(32 * 1024).fill(0xff)
    const valid = framed(SyncResponse.encode({ code: SyncResponse.Code.OK, error: '', data: new Uint8Array(junk.subarray(0, 8 * 1024)), timestampVersion: 1_000_000, releases: [] }))
    const validRun = Buffer.concat(Array.from({ length: 8 }, () => valid))
    // summaries get every mode; files only those that break the protocol, so
    // the hostile peer never serves metadata that fails verification, is never
    // set aside as a suspect, and is asked again in every refresh
    const fileModes = ['huge length prefix', 'length prefix at the cap, then more', 'a length prefix that never ends']
    const summaryModes = [...fileModes.slice(0, 2), 'endless valid answers', fileModes[2]]
    let files = 0
    let summaries = 0
    const rootWalk = `metadata/${(repo().signedOf('root').version as number) + 1}.root.json`
    const evil = await hostile()
    await evil.unhandle(syncProtocol(NETWORK))
    await evil.handle(syncProtocol(NETWORK), async (stream: Stream) => {
      const run = (async (): Promise<Flood> => {
        let request: SyncRequest
        try {
          request = await pbStream(stream, { maxDataLength: 8 * 1024 }).read(SyncRequest, { signal: AbortSignal.timeout(5_000) })
        } catch (err) {
          stream.abort(err as Error)
          return { mode: 'none', request: '?', sent: 0, ms: 0, ended: 'no request', detail: (err as Error).message }
        }
        const file = request.kind === SyncRequest.Kind.FILE
        const mode = file ? fileModes[files++ % fileModes.length] : summaryModes[summaries++ % summaryModes.length]
        const what = file ? request.path : 'a summary'
        // what the client accepts for this request
        const cap = request.kind === SyncRequest.Kind.FILE ? Number(request.maxLength) + RESPONSE_OVERHEAD_BYTES : MAX_SUMMARY_BYTES
        let result
        switch (mode) {
          case 'huge length prefix': result = await flood(stream, varint(2 ** 40), () => junk); break
          case 'length prefix at the cap, then more': result = await flood(stream, varint(cap), () => junk); break
          case 'endless valid answers': result = await flood(stream, validRun, () => validRun); break
          // continuation bytes at a pace the reader keeps up with, so no read buffer overflows
          default: result = await flood(stream, ffs, () => ffs, 20)
        }
        return { mode, request: what, ...result }
      })()
      floods.push(run)
      await run
    }, { maxInboundStreams: 64, maxOutboundStreams: 64 })

    const pid = followerProcess().child.pid!
    const rss = watchRss(pid)
    let memory = { baseline: 0, max: 0 }
    try {
      // every new connection makes the follower ask for a summary: one per mode
      for (let i = 0; i < summaryModes.length; i++) {
        await evil.dial(followerAddr())
        await waitFor(`summary request ${i + 1} from the follower`, () => summaries > i, 15_000, 100)
        await Promise.all(floods)
        for (const connection of evil.getConnections()) await connection.close().catch(() => {})
      }
      // and while it is connected, releases: every refresh asks it for files,
      // the next root at least (no one has it), and gets floods; one release
      // at least, four at most, until every file mode was tried
      await evil.dial(followerAddr())
      for (let i = 0; i < 4 && (i < 1 || files < fileModes.length); i++) {
        await publish(`1.2.${i}`, 3 + i)
        await waitHolds(`1.2.${i}`)
      }
      await Promise.all(floods)
    } finally {
      memory = rss.stop()
      await stopHostile(evil)
    }
    const results = await Promise.all(floods)
    const report = `${describeFloods(results)}\nfollower RSS ${memory.baseline.toFixed(0)} MiB before, ${memory.max.toFixed(0)} MiB at most`
    for (const mode of summaryModes) assert.ok(results.some(f => f.request === 'a summary' && f.mode === mode), `mode ${mode} was tried on a summary:\n${report}`)
    for (const mode of fileModes) assert.ok(results.some(f => f.request !== 'a summary' && f.mode === mode), `mode ${mode} was tried on a file:\n${report}`)
    assert.ok(results.some(f => f.request === rootWalk), `the follower's root walk asked the hostile peer for ${rootWalk}:\n${report}`)
    // a stream the follower closed before it asked anything carries no flood
    for (const f of results.filter(f => f.ended !== 'no request')) {
      assert.equal(f.ended, 'cut off', `every flood was cut off by the follower:\n${report}`)
      // by its read caps, not by a request's timeout: a few windows of data, within seconds
      // (what is in flight is up to a yamux window, 16 MiB, plus what the read caps allow)
      assert.ok(f.sent < 64 * MiB && f.ms < 5_000, `every flood was cut off early:\n${report}`)
    }
    assert.ok(memory.max < RSS_LIMIT_MIB, `the follower's RSS stays under ${RSS_LIMIT_MIB} MiB:\n${report}`)
    assert.ok(memory.max - memory.baseline < RSS_GROWTH_LIMIT_MIB, `the follower's RSS grows by less than ${RSS_GROWTH_LIMIT_MIB} MiB:\n${report}`)
    const id = evil.peerId.toString()
    assert.match(log(), new RegExp(`no summary from ${id}`), 'the follower logs the summaries it could not read')
    // it updated with the hostile peer asked all along: no refresh failed for its floods, and it was never set aside
    assert.doesNotMatch(log(), new RegExp(`refresh failed[^\\n]*${id}`), 'a flooding peer does not fail a refresh')
    assert.doesNotMatch(log(), new RegExp(`not believing [^\\n]*${id}`))
    assert.equal(await trustedVersion(), repo().signedOf('timestamp').version, 'the follower trusts the publisher\'s newest timestamp, not the hostile answers')
    assertNothingUntrustedStored()
    console.log(`# sync floods:\n${report}`)
  })

  it('cuts off a peer that answers chunk requests with more than a chunk and endless answers, and completes from the publisher', async () => {
    const floods: Array<Promise<Flood>> = []
    const big = pseudoRandom(MAX_CHUNK_SIZE + 1024, 78)
    const junk = pseudoRandom(64 * 1024, 79)
    const ffs = new Uint8Array(32 * 1024).fill(0xff)
    const modes = ['a chunk larger than the cap', 'huge length prefix', 'answers past the count', 'a length prefix that never ends']
    let count = 0
    // it claims to hold every release
    const evil = await hostile({ summary: () => ({ timestampVersion: 0, releases: Object.keys(repo().targets()) }), claimsPieces: true })
    await evil.unhandle(chunksProtocol(NETWORK))
    await evil.handle(chunksProtocol(NETWORK), async (stream: Stream) => {
      const run = (async (): Promise<Flood> => {
        let request: ChunksRequest
        try {
          request = await pbStream(stream, { maxDataLength: MAX_CHUNKS_REQUEST_BYTES }).read(ChunksRequest, { signal: AbortSignal.timeout(5_000) })
        } catch (err) {
          stream.abort(err as Error)
          return { mode: 'none', request: '?', sent: 0, ms: 0, ended: 'no request', detail: (err as Error).message }
        }
        const mode = modes[count++ % modes.length]
        const what = `a ${request.kind} of ${request.cids.length} chunks`
        const cids = request.cids.length > 0 ? request.cids : [new Uint8Array(36)]
        let result
        switch (mode) {
          case 'a chunk larger than the cap': {
            // fits the message cap (a chunk plus overhead), but holds more than a chunk may
            const answer = framed(ChunksResponse.encode({ code: ChunksResponse.Code.OK, error: '', bitfield: new Uint8Array(0), cid: cids[0], data: new Uint8Array(big) }))
            result = await flood(stream, answer, () => answer)
            break
          }
          case 'huge length prefix': result = await flood(stream, varint(2 ** 40), () => junk); break
          case 'answers past the count': {
            // NOT_FOUND for each CID in order, and then more, without end
            let i = 0
            const answers = (): Uint8Array => Buffer.concat(Array.from({ length: 128 }, () => framed(ChunksResponse.encode({ code: ChunksResponse.Code.NOT_FOUND, error: 'x'.repeat(400), bitfield: new Uint8Array(0), cid: cids[i++ % cids.length], data: new Uint8Array(0) }))))
            result = await flood(stream, answers(), answers)
            break
          }
          default: result = await flood(stream, ffs, () => ffs, 20)
        }
        return { mode, request: what, ...result }
      })()
      floods.push(run)
      await run
    }, { maxInboundStreams: 64, maxOutboundStreams: 64 })

    const pid = followerProcess().child.pid!
    const rss = watchRss(pid)
    let memory = { baseline: 0, max: 0 }
    const versions: string[] = []
    try {
      await evil.dial(followerAddr())
      // the hostile peer claims every piece in the have exchange, so the swarm
      // asks it too (about two requests a release, before it is dropped for
      // that release); two releases at least, four at most, until every mode was tried
      for (let i = 0; i < 4 && (i < 2 || count < modes.length); i++) {
        const version = `1.${3 + i}.0`
        versions.push(version)
        await publish(version, 10 + i, 16 * MiB)
        await waitHolds(version)
      }
      await Promise.all(floods)
    } finally {
      memory = rss.stop()
      await stopHostile(evil)
    }
    const results = await Promise.all(floods)
    const report = `${describeFloods(results)}\nfollower RSS ${memory.baseline.toFixed(0)} MiB before, ${memory.max.toFixed(0)} MiB at most`
    assert.ok(results.length >= 2, `the hostile peer was asked for chunks:\n${report}\nfollower log:\n${log().slice(-3000)}`)
    for (const mode of modes) assert.ok(results.some(f => f.mode === mode), `mode ${mode} was tried:\n${report}`)
    // a stream the follower closed before it asked anything carries no flood
    for (const f of results.filter(f => f.ended !== 'no request')) {
      assert.equal(f.ended, 'cut off', `every flood was cut off by the follower:\n${report}`)
      // by its read caps, not by a request's timeout: a few windows of data, within seconds
      // (what is in flight is up to a yamux window, 16 MiB, plus what the read caps allow)
      assert.ok(f.sent < 64 * MiB && f.ms < 5_000, `every flood was cut off early:\n${report}`)
    }
    assert.ok(memory.max < RSS_LIMIT_MIB, `the follower's RSS stays under ${RSS_LIMIT_MIB} MiB:\n${report}`)
    assert.ok(memory.max - memory.baseline < RSS_GROWTH_LIMIT_MIB, `the follower's RSS grows by less than ${RSS_GROWTH_LIMIT_MIB} MiB:\n${report}`)
    assert.match(log(), new RegExp(`dropping ${evil.peerId.toString()} for release`), 'the chunk fetcher drops the hostile peer')
    for (const version of versions) assert.ok(await holds(version))
    assertNothingUntrustedStored()
    console.log(`# chunk floods:\n${report}`)
  })
})
