/**
 * Signed node reports: the wire format, what verification refuses and why,
 * the gossipsub validator, and the coordinator's ReportBook.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  MAX_REPORT_BYTES, ReportBook, canonicalReport, newReportCounts, reportValidator, signReport, verifyReport
} from '../../../src/rollout/reports.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Message } from '@libp2p/gossipsub'
import type { NodeReport } from '../../../src/rollout/types.js'
import { loggerInto } from '../../helpers/capture-logger.js'

// real Ed25519 peer ids: fromJSON checks every field as verifyReport does
const peers = await Promise.all(Array.from({ length: 5 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
const decoder = new TextDecoder()
const encoder = new TextEncoder()

function reportOf (peerId: string, over: Partial<NodeReport> = {}): NodeReport {
  return {
    peerId,
    rolloutId: '3f2a9c1e-0b7d',
    package: 'my-app',
    version: '1.4.0',
    outcome: 'healthy',
    current: '1.4.0',
    wave: 1,
    reason: '',
    tags: ['canary', 'eu-west'],
    at: 1_700_000_000_000,
    seq: 7,
    ...over
  }
}

/** re-encodes a signed report after `edit` changed its parsed JSON, keeping the signature */
function tamper (bytes: Uint8Array, edit: (signed: any) => void): Uint8Array {
  const signed = JSON.parse(decoder.decode(bytes))
  edit(signed)
  return encoder.encode(JSON.stringify(signed))
}

async function rejected (bytes: Uint8Array, pattern: RegExp): Promise<void> {
  const v = await verifyReport(bytes)
  assert.equal(v.ok, false, 'expected a rejection')
  if (!v.ok) assert.match(v.reason, pattern)
}

describe('node reports', () => {
  let key: PrivateKey
  let peer: string
  let other: PrivateKey
  let good: Uint8Array

  before(async () => {
    key = await generateKeyPair('Ed25519')
    peer = peerIdFromPrivateKey(key).toString()
    other = await generateKeyPair('Ed25519')
    good = await signReport(reportOf(peer), key)
  })

  it('round trip: signs and verifies, the report unchanged', async () => {
    const v = await verifyReport(good)
    assert.ok(v.ok)
    assert.deepEqual(v.report, reportOf(peer))
    const signed = JSON.parse(decoder.decode(good))
    assert.deepEqual(Object.keys(signed), ['report', 'signature'])
    assert.equal(Buffer.from(signed.signature, 'base64').length, 64)
  })

  it('canonical bytes do not depend on key order', () => {
    const r = reportOf(peer)
    const shuffled = Object.fromEntries(Object.entries(r).reverse()) as unknown as NodeReport
    assert.deepEqual(canonicalReport(shuffled), canonicalReport(r))
    assert.match(decoder.decode(canonicalReport(r)), /^\{"peerId":.*"seq":7\}$/)
  })

  it('a report whose peerId is changed after signing is rejected: signature', async () => {
    const otherPeer = peerIdFromPrivateKey(other).toString()
    await rejected(tamper(good, s => { s.report.peerId = otherPeer }), new RegExp(`signature does not match peer ${otherPeer}`))
  })

  it('a report whose fields are changed after signing is rejected: signature', async () => {
    await rejected(tamper(good, s => { s.report.outcome = 'failed' }), /signature does not match/)
    await rejected(tamper(good, s => { s.report.seq = 8 }), /signature does not match/)
    await rejected(tamper(good, s => { s.report.tags = ['canary'] }), /signature does not match/)
  })

  it('a flipped signature bit is rejected', async () => {
    const bad = tamper(good, s => {
      const sig = Buffer.from(s.signature, 'base64')
      sig[10] ^= 0x01
      s.signature = sig.toString('base64')
    })
    await rejected(bad, /signature does not match peer/)
  })

  it('a signature that is not 64 bytes of canonical base64 is rejected', async () => {
    await rejected(tamper(good, s => { s.signature = s.signature.slice(0, 40) }), /field signature/)
    await rejected(tamper(good, s => { s.signature = 42 }), /field signature/)
    await rejected(tamper(good, s => { s.signature = s.signature.replace(/=+$/, '') }), /field signature/)
  })

  it('signReport refuses a key that is not the report peer\'s', async () => {
    await assert.rejects(signReport(reportOf(peer), other), /not the peer id of the signing key/)
  })

  it('more than MAX_REPORT_BYTES is rejected before parsing, even a valid report padded with spaces', async () => {
    const padded = (total: number): Uint8Array => {
      const text = decoder.decode(good)
      return encoder.encode(text.slice(0, -1) + ' '.repeat(total - good.byteLength) + '}')
    }
    assert.ok((await verifyReport(padded(MAX_REPORT_BYTES))).ok)
    await rejected(padded(MAX_REPORT_BYTES + 1), /too large: 8193 bytes, at most 8192/)
    await rejected(encoder.encode(JSON.stringify({ pad: 'x'.repeat(MAX_REPORT_BYTES) })), /too large/)
  })

  it('the largest valid report fits in MAX_REPORT_BYTES', async () => {
    // every string at its limit, in characters that JSON escapes to 6 bytes each
    const esc = (n: number): string => '\u0001'.repeat(n)
    const bytes = await signReport(reportOf(peer, { rolloutId: 'a'.repeat(64), package: 'p'.repeat(64), version: esc(64), current: esc(64), reason: esc(512), tags: Array.from({ length: 16 }, () => esc(32)), at: Number.MAX_SAFE_INTEGER, seq: Number.MAX_SAFE_INTEGER, outcome: 'rolled-back', wave: -1 }), key)
    assert.ok(bytes.byteLength <= MAX_REPORT_BYTES, `${bytes.byteLength} bytes`)
    assert.ok((await verifyReport(bytes)).ok)
  })

  it('signReport cuts the reason to 512 characters', async () => {
    const bytes = await signReport(reportOf(peer, { outcome: 'failed', reason: 'é'.repeat(2000) }), key)
    const v = await verifyReport(bytes)
    assert.ok(v.ok)
    assert.equal(v.report.reason, 'é'.repeat(512))
    // by code point: an emoji (two UTF-16 units) is not cut in half
    const emoji = await verifyReport(await signReport(reportOf(peer, { reason: '😀'.repeat(600) }), key))
    assert.ok(emoji.ok)
    assert.equal(Array.from(emoji.report.reason).length, 512)
  })

  it('signReport refuses a malformed report instead of sending it', async () => {
    await assert.rejects(signReport(reportOf(peer, { wave: 16 }), key), /field wave/)
  })

  it('not JSON, not UTF-8, or not an object is rejected', async () => {
    await rejected(encoder.encode('{"report":'), /not UTF-8 JSON/)
    await rejected(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /not UTF-8 JSON/)
    await rejected(encoder.encode('[1,2]'), /not a JSON object/)
    await rejected(encoder.encode('null'), /not a JSON object/)
    await rejected(tamper(good, s => { s.extra = 1 }), /field extra: unknown field/)
    await rejected(tamper(good, s => { s.report = 'x' }), /not a JSON object/)
  })

  // each malformed field, re-signed with the right key so only the field is wrong
  const malformed: Array<[string, (r: any) => void, RegExp]> = [
    ['rolloutId with capitals', r => { r.rolloutId = 'ABC' }, /field rolloutId/],
    ['rolloutId empty', r => { r.rolloutId = '' }, /field rolloutId/],
    ['rolloutId of 65 characters', r => { r.rolloutId = 'a'.repeat(65) }, /field rolloutId/],
    ['package starting with -', r => { r.package = '-app' }, /field package/],
    ['package with /', r => { r.package = 'a/b' }, /field package/],
    ['package of 65 characters', r => { r.package = 'a'.repeat(65) }, /field package/],
    ['version of 65 characters', r => { r.version = '1'.repeat(65) }, /field version/],
    ['version a number', r => { r.version = 1 }, /field version/],
    ['current of 65 characters', r => { r.current = '1'.repeat(65) }, /field current/],
    ['current null', r => { r.current = null }, /field current/],
    ['outcome unknown', r => { r.outcome = 'exploded' }, /field outcome: expected one of waiting/],
    ['wave 16', r => { r.wave = 16 }, /field wave/],
    ['wave -2', r => { r.wave = -2 }, /field wave/],
    ['wave 1.5', r => { r.wave = 1.5 }, /field wave/],
    ['wave a string', r => { r.wave = '1' }, /field wave/],
    ['reason of 513 characters', r => { r.reason = 'x'.repeat(513) }, /field reason/],
    ['17 tags', r => { r.tags = Array.from({ length: 17 }, (_, i) => `t${i}`) }, /field tags: 17 tags/],
    ['a tag of 33 characters', r => { r.tags = ['t'.repeat(33)] }, /field tags/],
    ['a tag not a string', r => { r.tags = [1] }, /field tags/],
    ['tags not an array', r => { r.tags = 'canary' }, /field tags: not an array/],
    ['at fractional', r => { r.at = 1.5 }, /field at/],
    ['at beyond safe integers', r => { r.at = 2 ** 53 }, /field at/],
    ['seq negative', r => { r.seq = -1 }, /field seq/],
    ['seq beyond safe integers', r => { r.seq = 2 ** 60 }, /field seq/],
    ['seq missing', r => { delete r.seq }, /field seq: missing/],
    ['an unknown field', r => { r.admin = true }, /field admin: unknown field/]
  ]
  for (const [name, edit, pattern] of malformed) {
    it(`malformed field: ${name}`, async () => {
      const report: any = reportOf(peer)
      edit(report)
      // signed over what canonicalReport makes of it, as a hostile node could
      const signature = await key.sign(canonicalReport(report))
      const bytes = encoder.encode(JSON.stringify({ report, signature: Buffer.from(signature).toString('base64') }))
      await rejected(bytes, pattern)
    })
  }

  it('accepts the edge values: wave -1 and 15, empty version and current, 16 tags of 32', async () => {
    for (const over of [{ wave: -1, version: '', current: '' }, { wave: 15 }, { tags: Array.from({ length: 16 }, () => 't'.repeat(32)) }, { seq: 0, at: 0 }]) {
      const v = await verifyReport(await signReport(reportOf(peer, over), key))
      assert.ok(v.ok, JSON.stringify(over))
    }
  })

  it('a garbage peer id is rejected', async () => {
    await rejected(tamper(good, s => { s.report.peerId = 'not-a-peer-id' }), /field peerId: "not-a-peer-id" is not a peer id/)
    await rejected(tamper(good, s => { s.report.peerId = '' }), /field peerId/)
    await rejected(tamper(good, s => { s.report.peerId = 7 }), /field peerId: not a string/)
  })

  it('a secp256k1 peer id is rejected, even with a valid signature of its key', async () => {
    const k = await generateKeyPair('secp256k1')
    const report = reportOf(peerIdFromPrivateKey(k).toString())
    const signature = await k.sign(canonicalReport(report))
    const bytes = encoder.encode(JSON.stringify({ report, signature: Buffer.from(signature).toString('base64') }))
    await rejected(bytes, /field peerId: .* is a secp256k1 peer id/)
  })

  it('a peer id in a non-canonical form (CID) is rejected', async () => {
    const cid = peerIdFromPrivateKey(key).toCID().toString()
    await rejected(tamper(good, s => { s.report.peerId = cid }), /not in the canonical form/)
  })

  it('the gossipsub validator accepts verified reports the handler takes, ignores those it does not, and rejects the rest', async () => {
    const seen: NodeReport[] = []
    const lines: string[] = []
    const counts = newReportCounts()
    const validate = reportValidator((r) => { seen.push(r); return seen.length === 1 }, loggerInto(lines), counts)
    const from = peerIdFromPrivateKey(other) as PeerId
    const msg = (data: Uint8Array): Message => ({ type: 'unsigned', topic: '/umesh/test/reports/1', data })
    assert.equal(await validate(from, msg(good)), TopicValidatorResult.Accept)
    assert.equal(seen.length, 1)
    assert.equal(seen[0].peerId, peer)
    const forged = tamper(good, s => { s.report.outcome = 'failed' })
    assert.equal(await validate(from, msg(forged)), TopicValidatorResult.Reject)
    assert.equal(await validate(from, msg(encoder.encode('garbage'))), TopicValidatorResult.Reject)
    assert.equal(seen.length, 1)
    // verified, but not new to the handler: not forwarded, not held against the sender
    assert.equal(await validate(from, msg(good)), TopicValidatorResult.Ignore)
    assert.equal(seen.length, 2)
    assert.deepEqual(counts, { accepted: 1, stale: 1, rejected: 2 })
    assert.equal(lines.length, 2)
    assert.match(lines[0], /rejecting a report from 12D3.*signature does not match/)
    // a throwing handler is the receiver's problem, not the sender's
    const throwing = reportValidator(() => { throw new Error('boom') }, loggerInto(lines))
    assert.equal(await throwing(from, msg(good)), TopicValidatorResult.Accept)
    assert.match(lines.at(-1)!, /boom/)
  })
})

describe('ReportBook', () => {
  const P = (i: number): string => peers[i]
  const r = (peer: string, rollout: string, seq: number, over: Partial<NodeReport> = {}): NodeReport => reportOf(peer, { rolloutId: rollout, seq, ...over })

  it('keeps the newest report per peer per rollout by seq', () => {
    const book = new ReportBook()
    assert.equal(book.accept(r(P(1), 'a', 5, { outcome: 'installing' })), true)
    assert.equal(book.accept(r(P(1), 'a', 5, { outcome: 'failed' })), false, 'same seq')
    assert.equal(book.accept(r(P(1), 'a', 4, { outcome: 'failed' })), false, 'older seq')
    assert.equal(book.latest('a')[0].outcome, 'installing')
    assert.equal(book.accept(r(P(1), 'a', 6, { outcome: 'healthy' })), true)
    assert.equal(book.latest('a')[0].outcome, 'healthy')
    // another rollout of the same peer is kept apart, whatever its seq
    assert.equal(book.accept(r(P(1), 'b', 2)), true)
    assert.equal(book.accept(r(P(2), 'a', 1)), true)
    assert.deepEqual(book.latest('a').map(x => [x.peerId, x.seq]), [[P(1), 6], [P(2), 1]])
    assert.deepEqual(book.latest('b').map(x => x.seq), [2])
    assert.deepEqual(book.latest('c'), [])
    assert.equal(book.get(P(1), 'b')?.seq, 2)
  })

  it('nodes(): one per peer, its highest-seq report across rollouts, lastSeen from the book clock', () => {
    let now = 1000
    const book = new ReportBook({ now: () => now })
    book.accept(r(P(1), 'a', 10))
    now = 2000
    book.accept(r(P(1), 'b', 3)) // a late report of an older seq for another rollout
    now = 3000
    book.accept(r(P(2), 'a', 1))
    const nodes = book.nodes()
    assert.equal(nodes.length, 2)
    assert.deepEqual(nodes.map(n => [n.peerId, n.lastReport.rolloutId, n.lastReport.seq, n.lastSeen]), [[P(1), 'a', 10, 2000], [P(2), 'a', 1, 3000]])
    // a stale report does not count as seen
    now = 4000
    assert.equal(book.accept(r(P(1), 'a', 9)), false)
    assert.equal(book.nodes()[0].lastSeen, 2000)
  })

  it('evicts the least recently seen peer beyond maxPeers', () => {
    let now = 0
    const book = new ReportBook({ maxPeers: 3, now: () => ++now })
    for (let i = 1; i <= 3; i++) book.accept(r(P(i), 'a', 1))
    book.accept(r(P(1), 'a', 2)) // P(1) seen again: P(2) is now the least recent
    book.accept(r(P(4), 'a', 1))
    assert.equal(book.size, 3)
    assert.deepEqual(book.nodes().map(n => n.peerId), [P(3), P(1), P(4)])
    assert.equal(book.latest('a').some(x => x.peerId === P(2)), false)
  })

  it('keeps at most maxRolloutsPerPeer rollouts per peer, dropping the lowest seq', () => {
    const book = new ReportBook({ maxRolloutsPerPeer: 2 })
    book.accept(r(P(1), 'a', 1))
    book.accept(r(P(1), 'b', 2))
    book.accept(r(P(1), 'c', 3))
    assert.deepEqual(book.latest('a'), [])
    assert.equal(book.latest('b').length, 1)
    assert.equal(book.latest('c').length, 1)
  })

  it('JSON round trip keeps reports, lastSeen and eviction order', () => {
    let now = 100
    const book = new ReportBook({ now: () => now })
    book.accept(r(P(1), 'a', 1))
    now = 200
    book.accept(r(P(2), 'a', 2, { outcome: 'failed', reason: 'health check: exit 1' }))
    now = 300
    book.accept(r(P(1), 'b', 3))
    const json = JSON.parse(JSON.stringify(book))
    assert.equal(json.format, 'umesh-report-book/1')
    const back = ReportBook.fromJSON(json, { maxPeers: 2 })
    assert.deepEqual(back.toJSON(), book.toJSON())
    assert.deepEqual(back.nodes(), book.nodes())
    assert.deepEqual(back.latest('a'), book.latest('a'))
    // order survives: P(2) is the least recently seen, so it goes first
    back.accept(r(P(3), 'a', 1))
    assert.deepEqual(back.nodes().map(n => n.peerId), [P(1), P(3)])
    // seq ordering survives
    assert.equal(ReportBook.fromJSON(json).accept(r(P(1), 'b', 3)), false)
  })

  it('fromJSON is lenient: not a book gives an empty one, malformed reports are skipped', () => {
    assert.equal(ReportBook.fromJSON(undefined).size, 0)
    assert.equal(ReportBook.fromJSON({ entries: 'x' }).size, 0)
    const good = r(P(1), 'a', 1)
    const book = ReportBook.fromJSON({ entries: [null, { lastSeen: 5, reports: [{ ...good, wave: 99 }] }, { lastSeen: 6, reports: [good] }] })
    assert.equal(book.size, 1)
    assert.equal(book.nodes()[0].lastSeen, 6)
  })
})
