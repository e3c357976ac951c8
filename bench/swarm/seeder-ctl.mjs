// swarm-bench scenario "update-mesh", seeder helper (started by seeder.sh just
// before it execs the publisher daemon, so the daemon, SB_UMESH_PID, becomes
// this process's parent):
//  - reads M (distinct chunks) from the release index, checked against the
//    held-back targets v2 (the signed length and sha256);
//  - waits until the publisher daemon is up (`umesh status`: phase ready,
//    serving timestamp v1, no release visible), publishes peer-0.json
//    { peer_id, multiaddr } and writes seeder.ready.json { pieces: M, ... };
//  - at GO: writes timestamp v2 into <repo>/metadata/timestamp.json (tmp +
//    rename, so the publisher's 0.5 s poll sees a whole file, with a fresh
//    mtime): the publisher announces the release at its next poll;
//  - at 'stop', the deadline, or the daemon's death: writes
//    umesh-seeder-stats.json (when the publisher announced, from its DEBUG
//    log), adds those figures to seeder.ready.json as go_publish (so they
//    reach the report's seeder_info) and ends the daemon (TERM, KILL after 2 s).
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { alive, indexChunks, status, terminate } from './proc.mjs'
const h = await import(process.env.SB_LIB + '/harness.mjs')

const E = process.env
const daemonPid = Number(E.SB_UMESH_PID)
const repo = E.SB_UMESH_REPO
const work = E.SB_UMESH_WORK
const cli = E.SB_UMESH_CLI

process.on('exit', () => { try { if (alive(daemonPid)) process.kill(daemonPid, 'SIGKILL') } catch {} })
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => process.exit(143))

async function shutdown (code) {
  const ms = await terminate(daemonPid, 2000)
  h.log(`publisher daemon ended in ${ms} ms`)
  process.exit(code)
}

/** the publisher's DEBUG lines: "<ISO> umesh:publisher announced timestamp version V to K peers" */
function announcements () {
  let text = ''
  try { text = fs.readFileSync(path.join(h.runDir, 'log-0.txt'), 'utf8') } catch {}
  return [...text.matchAll(/^(\S+) umesh:publisher announced timestamp version (\d+) to (\d+) peers/gm)]
    .map(m => ({ t_ms: Date.parse(m[1]), version: Number(m[2]), peers: Number(m[3]) }))
}

try {
  const t0 = Date.now()
  const added = JSON.parse(fs.readFileSync(path.join(work, 'release-add.json'), 'utf8'))
  const tsRelease = fs.readFileSync(path.join(work, 'timestamp.release.json'))
  const tsReleaseVersion = JSON.parse(tsRelease).signed.version
  const tsBeforeVersion = JSON.parse(fs.readFileSync(path.join(work, 'timestamp.before.json'), 'utf8')).signed.version
  // the held-back chain: timestamp v2 -> snapshot -> targets -> the index (signed sha256 and length)
  const snapVersion = JSON.parse(tsRelease).signed.meta['snapshot.json'].version
  const snapshot = JSON.parse(fs.readFileSync(path.join(repo, 'metadata', `${snapVersion}.snapshot.json`), 'utf8')).signed
  const targetsVersion = snapshot.meta['targets.json'].version
  const targets = JSON.parse(fs.readFileSync(path.join(repo, 'metadata', `${targetsVersion}.targets.json`), 'utf8')).signed.targets
  const target = targets[added.target]
  if (target == null) throw new Error(`${added.target} is not in targets v${targetsVersion}`)
  const sha = target.hashes.sha256
  const indexFile = path.join(repo, 'targets', path.dirname(added.target), `${sha}.${path.basename(added.target)}`)
  const indexBytes = fs.readFileSync(indexFile)
  if (indexBytes.length !== target.length || crypto.createHash('sha256').update(indexBytes).digest('hex') !== sha) {
    throw new Error(`${indexFile} does not match its signed length and sha256`)
  }
  const chunks = indexChunks(JSON.parse(indexBytes))

  // the publisher daemon: up, serving timestamp v1, nothing published yet
  let st = null
  for (;;) {
    if (!alive(daemonPid)) throw new Error('the publisher daemon exited during set-up (see log-0.txt)')
    if (Date.now() - t0 > 60000) throw new Error('the publisher daemon is not ready after 60 s')
    if (fs.existsSync(path.join(E.SB_UMESH_DATA, 'daemon.json'))) {
      try {
        st = await status(cli, E.SB_UMESH_DATA, { timeoutMs: 3000 })
        if (st.phase === 'ready') break
      } catch {}
    }
    await h.sleep(50)
  }
  if (st.trust?.timestampVersion !== tsBeforeVersion || (st.releases ?? []).length !== 0) {
    throw new Error(`the publisher serves timestamp v${st.trust?.timestampVersion} and ${(st.releases ?? []).length} releases before GO; expected v${tsBeforeVersion} and none`)
  }
  await h.publish({ peer_id: E.SB_UMESH_PEER_ID, multiaddr: E.SB_UMESH_MULTIADDR })
  const info = {
    pieces: chunks.distinct,
    chunks_total: chunks.total,
    chunk_avg_kib: Math.round(h.size / chunks.total / 1024 * 10) / 10,
    package: E.SB_UMESH_PACKAGE,
    version: E.SB_UMESH_VERSION,
    target_path: added.target,
    release_file: 'payload.bin',
    index_sha256: sha,
    timestamp_version_before: tsBeforeVersion,
    timestamp_version_release: tsReleaseVersion,
    multiaddr: E.SB_UMESH_MULTIADDR,
    peer_id: E.SB_UMESH_PEER_ID,
    network: E.SB_UMESH_NETWORK,
    trusted_root: path.join(repo, 'metadata', 'root.json'),
    umesh_cli: cli,
    umesh_version: st.version,
    setup_ms: { ...JSON.parse(E.SB_UMESH_SETUP_MS), daemon_ready_ms: Date.now() - t0 }
  }
  await h.seederReady(info)
  h.log(`publisher ${E.SB_UMESH_PEER_ID} ready; ${E.SB_UMESH_PACKAGE} ${E.SB_UMESH_VERSION} staged: ${chunks.distinct} distinct of ${chunks.total} chunks, timestamp v${tsReleaseVersion} held back`)

  // GO: publish = timestamp v2 into place
  const tGo = await h.waitGo()
  const tSeen = Date.now()
  const live = path.join(repo, 'metadata', 'timestamp.json')
  const tmp = path.join(repo, 'metadata', `.timestamp.json.${process.pid}.tmp`)
  fs.writeFileSync(tmp, tsRelease)
  fs.renameSync(tmp, live)
  const tPublished = Date.now()
  h.log(`GO: timestamp v${tsReleaseVersion} published ${tPublished - tGo} ms after GO`)

  while (!fs.existsSync(path.join(h.runDir, 'stop')) && alive(daemonPid) && Date.now() < h.deadlineMs - 1000) await h.sleep(100)
  const announced = announcements().find(a => a.version === tsReleaseVersion)
  const stats = {
    t_go_ms: tGo,
    go_seen_after_ms: tSeen - tGo,
    published_after_go_ms: tPublished - tGo,
    announced_after_go_ms: announced ? announced.t_ms - tGo : null,
    announced_to_peers: announced?.peers ?? null,
    announcements: announcements(),
    daemon_alive_at_stop: alive(daemonPid)
  }
  await h.writeJson('umesh-seeder-stats.json', stats).catch(() => {})
  // the report prints seeder.ready.json as seeder_info: add the GO-time publish figures (pieces unchanged)
  const { announcements: _all, ...brief } = stats
  await h.writeJson('seeder.ready.json', { ...info, go_publish: brief }).catch(() => {})
  await shutdown(0)
} catch (err) {
  h.log('FAILED', err?.stack ?? String(err))
  await h.writeJson('seeder.failed.json', { error: String(err?.message ?? err) }).catch(() => {})
  await shutdown(1)
}
