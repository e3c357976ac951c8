/**
 * The publisher on a real repository: each new timestamp is announced at
 * once (the folder watch, the poll behind it), the current one again every
 * `republishMs`, and a timestamp with less than half its lifetime left is
 * re-signed before it is announced. The announce topic is a stub that
 * records what it is given.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Publisher } from '../../../src/publish/index.js'
import { PublishedReleases } from '../../../src/publish/published-releases.js'
import { Repository } from '../../../src/trust/repository.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { tempDir, waitFor } from '../../helpers/cli.js'
import { addTreeRelease, repoTimestamp } from '../../helpers/release-repo.js'
import type { PublisherInit } from '../../../src/publish/index.js'

interface Announced { bytes: Buffer, at: number }

describe('Publisher', () => {
  const tmp = tempDir('umesh-publisher-')
  const started: Publisher[] = []
  let repos = 0
  after(() => {
    for (const p of started) p.stop()
    tmp.remove()
  })

  /** a publisher of `repoDir` whose announcements land in `announced`; `announce` may fail or count recipients */
  function publisherOf (repoDir: string, init: PublisherInit = {}, announce?: (bytes: Uint8Array) => Promise<number>): { publisher: Publisher, announced: Announced[], lines: string[] } {
    const announced: Announced[] = []
    const { components: logger, lines } = captureLogger()
    const publisher = new Publisher({
      releases: new PublishedReleases(repoDir),
      announcements: {
        announce: async (bytes) => {
          const recipients = await (announce?.(bytes) ?? Promise.resolve(2))
          announced.push({ bytes: Buffer.from(bytes), at: Date.now() })
          return recipients
        }
      },
      logger
    }, init)
    started.push(publisher)
    return { publisher, announced, lines }
  }

  const newRepo = (options = {}): Repository => Repository.init(join(tmp.path, `repo-${++repos}`), options)
  const versionOf = (a: Announced): number => JSON.parse(a.bytes.toString('utf8')).signed.version

  it('announces the current timestamp at start, and a new one within about a second of `release add`', async () => {
    const repo = newRepo()
    const { publisher, announced } = publisherOf(repo.dir, { republishMs: 60_000 })
    publisher.start()
    await waitFor('the first announcement', () => announced.length === 1, 3_000, 10)
    assert.deepEqual(announced[0].bytes, repoTimestamp(repo.dir).bytes)
    await addTreeRelease(repo, tmp.path, 'app', '1.0.0')
    const written = Date.now()
    const ts = repoTimestamp(repo.dir)
    assert.ok(ts.version > versionOf(announced[0]))
    await waitFor('the new timestamp announced', () => announced.some(a => a.bytes.equals(ts.bytes)), 1_500, 10)
    const at = announced.find(a => a.bytes.equals(ts.bytes))!.at
    assert.ok(at - written <= 1_000, `announced ${at - written} ms after it was written`)
    assert.equal(publisher.announced, announced.length)
    publisher.stop()
  })

  it('announces the same bytes again after republishMs, not before, and stops announcing once stopped', async () => {
    const repo = newRepo()
    const { publisher, announced } = publisherOf(repo.dir, { republishMs: 600, pollMs: 100 })
    publisher.start()
    await waitFor('the first announcement', () => announced.length === 1, 3_000, 10)
    await new Promise(resolve => setTimeout(resolve, 400))
    assert.equal(announced.length, 1, 'not again before republishMs')
    await waitFor('the second announcement', () => announced.length === 2, 1_500, 10)
    assert.deepEqual(announced[1].bytes, announced[0].bytes)
    const gap = announced[1].at - announced[0].at
    assert.ok(gap >= 600 && gap < 1_200, `re-announced after ${gap} ms`)
    publisher.stop()
    const count = announced.length
    await new Promise(resolve => setTimeout(resolve, 900))
    assert.equal(announced.length, count, 'nothing announced after stop()')
  })

  it('re-signs a timestamp with less than half its lifetime left, and announces the new one', async () => {
    // signed 20 hours ago with the default 1-day timestamp expiry: 4 hours left
    const repo = newRepo({ now: new Date(Date.now() - 20 * 3_600_000) })
    const before = repoTimestamp(repo.dir)
    assert.ok(new Date(before.expires).getTime() - Date.now() < 12 * 3_600_000)
    const { publisher, announced } = publisherOf(repo.dir, { republishMs: 60_000 })
    publisher.start()
    await waitFor('an announcement', () => announced.length >= 1, 3_000, 10)
    const now = repoTimestamp(repo.dir)
    assert.equal(now.version, before.version + 1, 're-signed once')
    assert.ok(new Date(now.expires).getTime() - Date.now() > 23 * 3_600_000, `expires ${now.expires}`)
    assert.deepEqual(announced.at(-1)!.bytes, now.bytes)
    assert.ok(announced.every(a => !a.bytes.equals(before.bytes)), 'the old timestamp is not announced')
    await new Promise(resolve => setTimeout(resolve, 600))
    assert.equal(repoTimestamp(repo.dir).version, now.version, 'a fresh timestamp is not re-signed again')
    publisher.stop()
  })

  it('does not re-sign a timestamp with more than half its lifetime left', async () => {
    const repo = newRepo({ now: new Date(Date.now() - 6 * 3_600_000) })
    const before = repoTimestamp(repo.dir)
    const { publisher, announced } = publisherOf(repo.dir, { republishMs: 60_000 })
    publisher.start()
    await waitFor('an announcement', () => announced.length >= 1, 3_000, 10)
    assert.deepEqual(announced[0].bytes, before.bytes)
    assert.equal(repoTimestamp(repo.dir).version, before.version)
    publisher.stop()
  })

  it('a failed announcement is logged and tried again at the next poll', async () => {
    const repo = newRepo()
    let calls = 0
    const { publisher, announced, lines } = publisherOf(repo.dir, { republishMs: 60_000, pollMs: 100 }, async () => {
      if (++calls === 1) throw new Error('no peers subscribed')
      return 0
    })
    publisher.start()
    await waitFor('a successful announcement', () => announced.length === 1, 2_000, 10)
    assert.deepEqual(announced[0].bytes, repoTimestamp(repo.dir).bytes)
    assert.ok(lines.some(l => /^error: publisher tick failed.*no peers subscribed/.test(l)), lines.join('\n'))
    publisher.stop()
  })
})
