/**
 * The dashboard's pure modules, loaded from the repository's dashboard/
 * folder as the browser loads them (plain ES modules, no build): the
 * server-sent events parser (fields, comments, CR/LF/CRLF split across
 * chunks, multi-line data, a stream read to its end) and the helpers
 * (texts, fleet filters and sorting, version counts, the stacked history,
 * which actions a rollout's state allows and what the dialog asks, the
 * start-rollout body, routes, backoff).
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { before, describe, it } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'

// the compiled test is dist/test/unit/http/dashboard.test.js: the repository is four folders up
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..')
const DASHBOARD = join(ROOT, 'dashboard')

interface SseEvent { event: string, data: string, id: string }
interface SseParserLike { push: (chunk: string) => SseEvent[], end: () => SseEvent[] }
interface SseModule {
  SseParser: new (handlers?: { onComment?: (text: string) => void, onRetry?: (ms: number) => void }) => SseParserLike
  readEventStream: (body: ReadableStream<Uint8Array>, h: { onEvent: (ev: SseEvent) => void, onComment?: (t: string) => void, signal?: AbortSignal }) => Promise<void>
}
type Fn = (...args: any[]) => any
type FormatModule = Record<string, Fn> & { WAVE_SEGMENTS: Array<{ key: string, attr: string }> }

let sse: SseModule
let fmt: FormatModule

before(async () => {
  sse = await import(pathToFileURL(join(DASHBOARD, 'sse.js')).href) as SseModule
  fmt = await import(pathToFileURL(join(DASHBOARD, 'format.js')).href) as FormatModule
})

function parseAll (chunks: string[]): { events: SseEvent[], comments: string[] } {
  const comments: string[] = []
  const p = new sse.SseParser({ onComment: t => { comments.push(t) } })
  const events = chunks.flatMap(c => p.push(c))
  return { events, comments }
}

describe('dashboard: the event stream parser', () => {
  it('reads named events with JSON data, a blank line ending each', () => {
    const { events } = parseAll(['event: rollout\ndata: {"package":"app"}\n\nevent: report\ndata: {"peerId":"p1"}\n\n'])
    assert.deepEqual(events.map(e => [e.event, JSON.parse(e.data)]), [['rollout', { package: 'app' }], ['report', { peerId: 'p1' }]])
  })

  it('gives comments to onComment and dispatches nothing for them', () => {
    const { events, comments } = parseAll([': keepalive\n\n:no space\n\n'])
    assert.deepEqual(events, [])
    assert.deepEqual(comments, ['keepalive', 'no space'])
  })

  it('joins data lines with LF and defaults the type to message', () => {
    const { events } = parseAll(['data: one\ndata:two\ndata\n\n'])
    assert.deepEqual(events, [{ event: 'message', data: 'one\ntwo\n', id: '' }])
  })

  it('accepts LF, CR and CRLF line ends, also split between chunks', () => {
    const text = 'event: changed\r\ndata: {"package":"a"}\r\n\r\nevent: changed\rdata: {"package":"b"}\r\revent: changed\ndata: {"package":"c"}\n\n'
    const whole = parseAll([text]).events.map(e => JSON.parse(e.data).package)
    assert.deepEqual(whole, ['a', 'b', 'c'])
    for (let cut = 1; cut < text.length; cut++) {
      const split = parseAll([text.slice(0, cut), text.slice(cut)]).events
      assert.deepEqual(split.map(e => [e.event, JSON.parse(e.data).package]), [['changed', 'a'], ['changed', 'b'], ['changed', 'c']], `cut at ${cut}`)
    }
    const bytewise = parseAll([...text]).events
    assert.equal(bytewise.length, 3)
  })

  it('a CRLF split after the CR is one line end, not an empty line too', () => {
    const { events } = parseAll(['data: x\r', '\ndata: y\r\n', '\r', '\n'])
    assert.deepEqual(events.map(e => e.data), ['x\ny'])
  })

  it('drops one space after the colon only, ignores unknown fields and an event without data', () => {
    const { events } = parseAll(['event: rollout\n\nfoo: bar\ndata:  two spaces\n\n'])
    assert.deepEqual(events, [{ event: 'message', data: ' two spaces', id: '' }])
  })

  it('keeps the last event id and reports retry', () => {
    const retries: number[] = []
    const p = new sse.SseParser({ onRetry: ms => { retries.push(ms) } })
    const evs = [...p.push('id: 7\nretry: 3000\nretry: x\ndata: a\n\n'), ...p.push('data: b\n\n')]
    assert.deepEqual(evs.map(e => [e.id, e.data]), [['7', 'a'], ['7', 'b']])
    assert.deepEqual(retries, [3000])
  })

  it('strips a byte order mark at the start and drops an unfinished event at the end', () => {
    const p = new sse.SseParser()
    assert.deepEqual(p.push('\uFEFFdata: a\n\ndata: half'), [{ event: 'message', data: 'a', id: '' }])
    assert.deepEqual(p.end(), [])
  })

  it('reads a fetch body to its end, multi-byte characters split between chunks', async () => {
    const bytes = new TextEncoder().encode(': hi\n\nevent: rollout\ndata: {"detail":"wave ä opened ✓"}\n\n')
    const cuts = [3, 30, 47, 48, 60]
    const chunks = [0, ...cuts].map((c, i) => bytes.slice(c, cuts[i] ?? bytes.length))
    const body = new ReadableStream<Uint8Array>({ start (c) { for (const x of chunks) c.enqueue(x); c.close() } })
    const got: SseEvent[] = []
    const comments: string[] = []
    await sse.readEventStream(body, { onEvent: e => { got.push(e) }, onComment: t => { comments.push(t) } })
    assert.deepEqual(comments, ['hi'])
    assert.deepEqual(got.map(e => JSON.parse(e.data).detail), ['wave ä opened ✓'])
  })

  it('stops reading when its signal aborts', async () => {
    const body = new ReadableStream<Uint8Array>({ start (c) { c.enqueue(new TextEncoder().encode('data: 1\n\n')) } })
    const ctl = new AbortController()
    const got: string[] = []
    const done = sse.readEventStream(body, { onEvent: e => { got.push(e.data); ctl.abort() }, signal: ctl.signal })
    await done
    assert.deepEqual(got, ['1'])
  })
})

const rows = [
  { peerId: '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', package: 'app', current: '1.1.0', outcome: 'healthy', rolloutId: 'r1', wave: 0, tags: ['canary'], lastReport: '2025-01-01T10:00:05.000Z', unreachable: false },
  { peerId: '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', package: 'app', current: '1.0.0', outcome: 'waiting', rolloutId: 'r1', wave: 1, tags: [], lastReport: '2025-01-01T10:00:01.000Z', unreachable: false },
  { peerId: '12D3KooWCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC', package: 'app', current: '1.0.0', outcome: 'healthy', rolloutId: 'r1', wave: 2, tags: ['last', 'eu'], lastReport: '2025-01-01T09:00:00.000Z', unreachable: true },
  { peerId: '12D3KooWDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD', package: 'app', current: '1.10.0', outcome: 'failed', rolloutId: 'r1', wave: 2, tags: ['eu'], lastReport: '2025-01-01T10:00:03.000Z', unreachable: false }
]

const doc = {
  id: 'r1',
  package: 'app',
  version: '1.2.0',
  waves: [{ name: 'canary', count: 1, peers: [] }, { name: 'half', fraction: 0.5, peers: [] }, { name: 'all', fraction: 1, peers: [] }],
  open: 0,
  state: 'running',
  rollback: false,
  gate: { success: 0.95, soakMs: 60_000 },
  abort: 0.1
}

describe('dashboard: helpers', () => {
  it('shortens peer ids as the CLI does', () => {
    assert.equal(fmt.shortPeer(rows[0].peerId), '12D3KooW…AAAAAA')
    assert.equal(fmt.shortPeer('short'), 'short')
  })

  it('writes durations, shares, bytes, gates and waves for people', () => {
    assert.deepEqual([850, 3_000, 4_250, 12_000, 185_000, 7_380_000, 93_600_000, 60_000, -1].map(ms => fmt.formatDuration(ms)),
      ['850 ms', '3 s', '4.2 s', '12 s', '3 min 5 s', '2 h 3 min', '1 d 2 h', '1 min', '-'])
    assert.equal(fmt.formatShare(0.95), '95 %')
    assert.equal(fmt.formatShare(0.125), '12.5 %')
    assert.deepEqual([512, 2048, 15 * 1024 * 1024].map(b => fmt.formatBytes(b)), ['512 B', '2.0 KiB', '15 MiB'])
    assert.equal(fmt.gateText(doc.gate), 'success ≥ 95 %, soak 1 min')
    assert.equal(fmt.abortText(0.1), 'halts at failures ≥ 10 %')
    assert.deepEqual(doc.waves.map(w => fmt.waveSpecText(w)), ['1 node', 'up to 50 % of the fleet', 'up to 100 % of the fleet'])
    assert.equal(fmt.waveSpecText({ name: 'x', share: 0.1 }), 'up to 10 % of the fleet')
  })

  it('says how long ago, and formats local times', () => {
    const now = Date.parse('2025-01-01T10:00:00Z')
    assert.equal(fmt.formatAgo('2025-01-01T09:59:48Z', now), '12 s ago')
    assert.equal(fmt.formatAgo(now - 185_000, now), '3 min ago')
    assert.equal(fmt.formatAgo(now, now), 'just now')
    assert.equal(fmt.formatAgo('not a time', now), '-')
    const d = new Date(now)
    const p = (n: number): string => String(n).padStart(2, '0')
    assert.equal(fmt.formatTime(now), `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`)
  })

  it('splits a wave into its bar segments, the deferred apart from the pending', () => {
    const wave = { name: 'half', open: true, nodes: 10, healthy: 4, installing: 1, pending: 2, deferred: 1, failed: 1, rolledBack: 1 }
    const segs = fmt.waveSegments(wave)
    assert.deepEqual(segs.map((s: { key: string, count: number }) => [s.key, s.count]), [['healthy', 4], ['installing', 1], ['pending', 2], ['deferred', 1], ['failed', 1], ['rolledBack', 1]])
    assert.ok(Math.abs(segs.reduce((a: number, s: { share: number }) => a + s.share, 0) - 1) < 1e-9)
    assert.deepEqual(fmt.WAVE_SEGMENTS.map(s => s.attr), ['healthy', 'installing', 'pending', 'deferred', 'failed', 'rolled-back'])
    assert.equal(fmt.waveCountsText(wave), '4 healthy, 1 installing, 2 pending, 1 deferred (maintenance window), 1 failed, 1 rolled back of 10')
    assert.equal(fmt.waveCountsText({ nodes: 0 }), 'no nodes yet')
    assert.ok(fmt.waveSegments({ nodes: 0 }).every((s: { share: number }) => s.share === 0))
  })

  it('filters the fleet by version, state (unreachable apart) and tag', () => {
    const ids = (xs: typeof rows): string[] => xs.map(r => r.peerId.slice(8, 9))
    assert.deepEqual(ids(fmt.filterFleet(rows, { version: '1.0.0' })), ['B', 'C'])
    assert.deepEqual(ids(fmt.filterFleet(rows, { state: 'healthy' })), ['A'])
    assert.deepEqual(ids(fmt.filterFleet(rows, { state: 'unreachable' })), ['C'])
    assert.deepEqual(ids(fmt.filterFleet(rows, { tag: 'eu', version: '' })), ['C', 'D'])
    assert.deepEqual(ids(fmt.filterFleet(rows, {})), ['A', 'B', 'C', 'D'])
    assert.deepEqual(fmt.fleetChoices(rows), { versions: ['1.0.0', '1.1.0', '1.10.0'], states: ['failed', 'healthy', 'unreachable', 'waiting'], tags: ['canary', 'eu', 'last'] })
  })

  it('sorts the fleet by a column, versions numerically and times as times, both ways', () => {
    const ids = (xs: typeof rows): string => xs.map(r => r.peerId.slice(8, 9)).join('')
    assert.equal(ids(fmt.sortFleet(rows, 'version')), 'BCAD')
    assert.equal(ids(fmt.sortFleet(rows, 'version', 'desc')), 'DABC', 'equal rows stay in peer id order')
    assert.equal(ids(fmt.sortFleet(rows, 'lastReport')), 'CBDA')
    assert.equal(ids(fmt.sortFleet(rows, 'state')), 'DACB')
    assert.equal(ids(fmt.sortFleet(rows, 'wave', 'desc')), 'CDBA')
    assert.equal(ids(rows), 'ABCD', 'the rows given are left as they were')
  })

  it('counts nodes per package version, most first', () => {
    assert.deepEqual(fmt.versionCounts(rows), [
      { package: 'app', version: '1.0.0', count: 2 },
      { package: 'app', version: '1.1.0', count: 1 },
      { package: 'app', version: '1.10.0', count: 1 }
    ])
  })

  it('stacks the history samples and draws one closed path per version', () => {
    const samples = [
      { at: '2025-01-01T10:00:00Z', versions: { 'app 1.0.0': 3 } },
      { at: '2025-01-01T10:01:00Z', versions: { 'app 1.0.0': 2, 'app 1.1.0': 1 } },
      { at: '2025-01-01T10:02:00Z', versions: { 'app 1.1.0': 3, 'app 1.10.0': 1 } }
    ]
    const st = fmt.stackHistory(samples)
    assert.deepEqual(st.keys, ['app 1.0.0', 'app 1.1.0', 'app 1.10.0'])
    assert.equal(st.max, 4)
    assert.deepEqual(st.stacks[1].layers, [{ key: 'app 1.0.0', y0: 0, y1: 2 }, { key: 'app 1.1.0', y0: 2, y1: 3 }, { key: 'app 1.10.0', y0: 3, y1: 3 }])
    const paths = fmt.areaPaths(st, 100, 40)
    assert.equal(paths.length, 3)
    assert.equal(paths[0].d, 'M0,10L50,20L100,40L100,40L50,40L0,40Z')
    for (const p of paths) assert.match(p.d, /^M[\d.,L-]+Z$/)
    const one = fmt.areaPaths(fmt.stackHistory([samples[0]]), 100, 40)
    assert.equal(one[0].d, 'M0,0L100,0L100,40L0,40Z')
    assert.deepEqual(fmt.areaPaths(fmt.stackHistory([]), 100, 40), [])
    assert.notEqual(fmt.seriesColour(0), fmt.seriesColour(1))
  })

  it('allows an action only when the rollout state does, and says why not', () => {
    const allowed = (d: object): string[] => ['promote', 'pause', 'resume', 'halt'].filter(a => fmt.actionAllowed(d, a).ok === true)
    assert.deepEqual(allowed(doc), ['promote', 'pause', 'halt'])
    assert.deepEqual(allowed({ ...doc, open: 2 }), ['pause', 'halt'])
    assert.deepEqual(allowed({ ...doc, state: 'paused' }), ['resume', 'halt'])
    assert.deepEqual(allowed({ ...doc, state: 'completed', open: 2 }), ['halt'])
    assert.deepEqual(allowed({ ...doc, state: 'halted', rollback: true }), [])
    assert.match(fmt.actionAllowed({ ...doc, state: 'paused' }, 'promote').why, /paused; resume it first/)
  })

  it('names what each action will do in the confirmation', () => {
    assert.equal(fmt.confirmText(doc, 'halt'), 'Halt the rollout of app 1.2.0 and roll back every node that installed it?')
    assert.equal(fmt.confirmText(doc, 'promote'), 'Open the next wave (half, up to 50 % of the fleet) of the rollout of app 1.2.0 now, without waiting for its gate?')
    assert.match(fmt.confirmText(doc, 'pause'), /^Pause the rollout of app 1\.2\.0\?/)
    assert.equal(fmt.confirmText(doc, 'resume'), 'Resume the rollout of app 1.2.0?')
  })

  it('builds the start-rollout body, leaving empty fields to the server', () => {
    assert.deepEqual(fmt.startBody({ package: ' app ', version: '1.2.0', waves: '', gate: ' ', abort: 'failures>=0.2', maxParallel: '3', manual: true, critical: false }),
      { package: 'app', version: '1.2.0', abort: 'failures>=0.2', maxParallel: 3, manual: true })
    assert.deepEqual(fmt.startBody({ package: 'app', version: '' }), { package: 'app', version: '' })
    assert.equal(fmt.fieldName('body.version'), 'version')
    assert.equal(fmt.fieldName(undefined), undefined)
    assert.equal(fmt.errorField('body.maxParallel', 'body.maxParallel: must be >= 1'), 'maxParallel')
    assert.equal(fmt.errorField(undefined, '--waves "canary:1,50": wave 2 ("50"): the last wave must be 100%'), 'waves')
    assert.equal(fmt.errorField(undefined, '--max-parallel: expected an integer'), 'maxParallel')
    assert.equal(fmt.errorField(undefined, 'a rollout of app is running'), undefined)
  })

  it('says why a node waits only when it waits, defers or refuses', () => {
    assert.equal(fmt.waitReason({ outcome: 'deferred', reason: 'next window 02:00' }), 'next window 02:00')
    assert.equal(fmt.waitReason({ outcome: 'refused', reason: 'downgrade' }), 'downgrade')
    assert.equal(fmt.waitReason({ outcome: 'healthy', reason: 'x' }), '')
    assert.equal(fmt.waitReason(undefined), '')
  })

  it('orders events newest first, keeping the later of equal times first', () => {
    const evs = [{ at: '2025-01-01T10:00:00Z', event: 'started' }, { at: '2025-01-01T10:00:00Z', event: 'wave-opened' }, { at: '2025-01-01T10:05:00Z', event: 'gate-passed' }]
    assert.deepEqual(fmt.newestFirst(evs).map((e: { event: string }) => e.event), ['gate-passed', 'wave-opened', 'started'])
  })

  it('orders by another time field when named, and sums an audit entry up in key=value words', () => {
    const audit = [{ time: '2025-01-01T10:00:00Z', action: 'release.add' }, { time: '2025-01-02T10:00:00Z', action: 'rollout.start' }]
    assert.deepEqual(fmt.newestFirst(audit, 'time').map((e: { action: string }) => e.action), ['rollout.start', 'release.add'])
    const long = 'x'.repeat(60)
    assert.equal(fmt.auditSummary({ args: { package: 'app', version: '1.1.0', waves: { n: 1 } }, result: { rollout: long, version: '1.1.0' } }),
      `package=app version=1.1.0 rollout=${'x'.repeat(39)}…`)
    assert.equal(fmt.auditSummary({}), '')
  })

  it('routes by the hash, backs off to 30 s, and maps events to the views they change', () => {
    assert.deepEqual(fmt.parseRoute(''), { page: 'main' })
    assert.deepEqual(fmt.parseRoute('#/'), { page: 'main' })
    assert.deepEqual(fmt.parseRoute(fmt.nodeHash('12D3Koo/x y')), { page: 'node', peerId: '12D3Koo/x y' })
    assert.deepEqual(fmt.parseRoute('#/node/%E0%A4%A'), { page: 'main' })
    assert.deepEqual([0, 1, 2, 5, 6, 40].map(a => fmt.backoffMs(a)), [1000, 2000, 4000, 30_000, 30_000, 30_000])
    assert.ok(fmt.affectedViews({ event: 'report' }).includes('fleet'))
    assert.ok(fmt.affectedViews({ event: 'changed' }).includes('rollouts'))
    assert.deepEqual(fmt.affectedViews({ event: 'nonsense' }), [])
  })

  it('names a node\'s wave from its rollout, or numbers it', () => {
    assert.equal(fmt.waveName([{ doc }], 'r1', 1), 'half')
    assert.equal(fmt.waveName([{ doc }], 'other', 1), 'wave 2')
    assert.equal(fmt.waveName([], 'r1', -1), '-')
  })
})

describe('dashboard: the static files', () => {
  const files = readdirSync(DASHBOARD).filter(f => statSync(join(DASHBOARD, f)).isFile())

  it('every file is under 400 lines', () => {
    for (const f of files) assert.ok(readFileSync(join(DASHBOARD, f), 'utf8').split('\n').length < 400, f)
  })

  it('index.html loads only same-origin files, with no inline script, style or handler (the server\'s CSP forbids them)', () => {
    const index = readFileSync(join(DASHBOARD, 'index.html'), 'utf8')
    assert.match(index, /<script type="module" src="\/dashboard\/app\.js"><\/script>/)
    assert.match(index, /<link rel="stylesheet" href="\/dashboard\/style\.css">/)
    assert.doesNotMatch(index, /<script(?![^>]*\ssrc=)[^>]*>/, 'an inline script')
    assert.doesNotMatch(index, /\sstyle=|<style|\son[a-z]+=/i, 'an inline style or handler')
    assert.doesNotMatch(index, /https?:\/\//, 'a file from elsewhere')
  })

  it('the modules import only each other and the vendored htm/preact, never build HTML from text', () => {
    for (const f of files.filter(f => f.endsWith('.js'))) {
      const text = readFileSync(join(DASHBOARD, f), 'utf8')
      for (const m of text.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) assert.match(m[1], /^\.\/(vendor\/htm-preact\.mjs|[a-z-]+\.js)$/, `${f} imports ${m[1]}`)
      assert.doesNotMatch(text, /dangerouslySetInnerHTML|innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, f)
      assert.doesNotMatch(text, /\blocalStorage\.|document\.cookie/, `${f}: the token stays in sessionStorage`)
      assert.doesNotMatch(text, /https?:\/\/(?!www\.w3\.org)/, `${f}: nothing from the network`)
    }
  })
})
