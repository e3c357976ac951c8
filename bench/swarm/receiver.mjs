// swarm-bench scenario "update-mesh", receiver (runs in sb-hI): a node daemon
// that follows the package and installs it.
//
// Set-up (excluded from the times): start `umesh node` (--bootstrap-peer = the
// publisher from peer-0.json, --trusted-root = the repository's root.json,
// --follow payload, --packages {payload: {installRoot}}, --no-mdns, listening
// on SB_ADDR only); ready once the daemon is up, connected to the publisher and
// trusts the publisher's current timestamp (v1, no release yet), and has met
// the other receivers (peers = min(N, 12), its target) or waited
// UMESH_BENCH_MESH_WAIT_MS (15 s) for them. `umesh status` gives the counts.
//
// Timed window: GO -> the daemon's held.json lists the release (every chunk
// fetched and verified, the index checked against signed TUF metadata; the
// node learnt of the release from the publisher's gossip announcement at GO).
// Seen by fs.watch on the data dir (held.json is written by tmp + rename),
// with a 250 ms stat poll as a safety net; no CLI is spawned in the window.
//
// After that, outside the timed figure: wait for the install (the history
// line in <installRoot>/history.jsonl: install_ms = held -> installed), write
// SB_OUT from the installed tree (<installRoot>/current/payload.bin; from the
// chunk store if the install failed) through the harness sink (SHA-256), and
// report. CPU in the report = the daemon's (/proc/PID/stat) + this wrapper's,
// GO -> held. The daemon keeps serving until 'stop'; it is ended then (TERM,
// KILL after 2 s), when this process exits, and by its parent-death signal
// (setpriv --pdeathsig) should this process be killed.
import { spawn, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { alive, cpuMs, meshPeers, status, terminate, umeshCli } from './proc.mjs'
const h = await import(process.env.SB_LIB + '/harness.mjs')

const MESH_WAIT_MS = Number(process.env.UMESH_BENCH_MESH_WAIT_MS ?? 15000)
const TARGET_PEERS = 12 // the daemon's default --target-peers
let child = null
process.on('exit', () => { try { if (child?.pid && alive(child.pid)) process.kill(child.pid, 'SIGKILL') } catch {} })
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => process.exit(143))

function hasSetpriv () {
  try { execFileSync('setpriv', ['--help'], { stdio: 'ignore' }); return true } catch { return false }
}

const readJsonFile = (file) => { try { return JSON.parse(fs.readFileSync(file, 'utf8')) } catch { return null } }

// ---- chunk store fallback (only when the install did not happen): CIDv1 raw
// sha2-256 in base32 -> <store>/<last 2 chars>/<BASE32UPPER(multihash)>.data
const B32 = 'abcdefghijklmnopqrstuvwxyz234567'
function b32decode (s) {
  const out = []; let bits = 0; let value = 0
  for (const c of s) { value = (value << 5) | B32.indexOf(c); bits += 5; if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8 } }
  return Uint8Array.from(out)
}
function b32encodeUpper (bytes) {
  let out = ''; let bits = 0; let value = 0
  for (const b of bytes) { value = (value << 8) | b; bits += 8; while (bits >= 5) { out += B32[(value >>> (bits - 5)) & 31]; bits -= 5 } }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31]
  return out.toUpperCase()
}
function chunkPath (store, cid) {
  const bytes = b32decode(cid.slice(1)) // multibase 'b'
  let i = 0
  const varint = () => { let x = 0; let s = 0; let b; do { b = bytes[i++]; x |= (b & 0x7f) << s; s += 7 } while (b & 0x80); return x }
  varint(); varint() // CID version, codec
  const name = b32encodeUpper(bytes.subarray(i))
  return path.join(store, name.slice(-2), `${name}.data`)
}

try {
  const cli = umeshCli()
  const seeder = await h.waitSeeder()
  const pub = await h.readJson('peer-0.json')
  const work = path.join(h.runDir, 'umesh', `h${h.index}`)
  const dataDir = path.join(work, 'node')
  const installRoot = path.join(work, 'install')
  await fsp.mkdir(work, { recursive: true })
  const logFd = fs.openSync(path.join(h.runDir, `log-${h.index}-umesh.txt`), 'a')
  const args = [cli, 'node', '--data-dir', dataDir, '--network', seeder.network,
    '--listen', `/ip4/${h.addr}/tcp/${h.port}`, '--no-mdns',
    '--bootstrap-peer', pub.multiaddr, '--trusted-root', seeder.trusted_root,
    '--follow', seeder.package, '--packages', JSON.stringify({ [seeder.package]: { installRoot } })]
  const env = { ...process.env }
  if (process.env.UMESH_BENCH_RECEIVER_DEBUG) env.DEBUG = process.env.UMESH_BENCH_RECEIVER_DEBUG
  else delete env.DEBUG
  child = hasSetpriv()
    ? spawn('setpriv', ['--pdeathsig', 'KILL', '--', process.execPath, ...args], { env, stdio: ['ignore', logFd, logFd] })
    : spawn(process.execPath, args, { env, stdio: ['ignore', logFd, logFd] })
  child.on('exit', (code, sig) => h.log(`umesh node exited code=${code} signal=${sig}`))
  const tSpawn = Date.now()

  // ---- set-up: up, connected to the publisher, trusting its timestamp v1, meshed
  const heldFile = path.join(dataDir, 'held.json')
  const trustedTs = () => readJsonFile(path.join(dataDir, 'tuf', 'metadata', 'timestamp.json'))?.signed?.version ?? 0
  const wantPeers = Math.min(h.n, TARGET_PEERS) // the publisher and the N-1 other receivers, up to the target
  let st = null; let peers = []; let distinct = 0
  let tUp = null; let tTrust = null; let tBase = null
  for (;;) {
    if (child.exitCode != null || child.signalCode != null) throw new Error('umesh node exited during set-up (see log-I-umesh.txt)')
    if (Date.now() - tSpawn > 100000) throw new Error(`not ready after 100 s: ${JSON.stringify({ phase: st?.phase, trust: st?.trust, peers: distinct })}`)
    if (tUp == null && fs.existsSync(path.join(dataDir, 'daemon.json'))) tUp = Date.now()
    if (tUp != null && tTrust == null && trustedTs() >= seeder.timestamp_version_before) tTrust = Date.now()
    if (tTrust != null) {
      try {
        st = await status(cli, dataDir, { timeoutMs: 3000 })
        peers = meshPeers(st, h.addr)
        distinct = new Set(peers.map(p => p.peerId)).size
        if (st.phase === 'ready' && peers.some(p => p.peerId === pub.peer_id)) {
          tBase ??= Date.now()
          if (distinct >= wantPeers || Date.now() - tBase >= MESH_WAIT_MS) break
        }
      } catch (err) { h.log(`set-up: ${err.message}`) }
      await h.sleep(1000) // each status spawns a node process; N of them share the cores with the daemons
    } else {
      await h.sleep(100)
    }
  }
  if (fs.existsSync(heldFile) && (readJsonFile(heldFile)?.releases ?? []).includes(seeder.target_path)) throw new Error('the release was held before GO')
  await h.publish({ peer_id: st.peerId, multiaddr: `/ip4/${h.addr}/tcp/${h.port}/p2p/${st.peerId}` })
  await h.ready({
    connections: peers.length,
    peers: distinct,
    meshed: distinct >= wantPeers,
    trusted_timestamp: st.trust?.timestampVersion,
    daemon_pid: child.pid,
    peer_id: st.peerId,
    // ms from spawn: daemon.json written, trusting timestamp v1, status: ready + the publisher connected, ready-I.json
    setup_ms: { daemon_up: tUp - tSpawn, trusting: tTrust - tSpawn, connected: tBase - tSpawn, ready: Date.now() - tSpawn }
  })

  // ---- timed window: GO -> held.json lists the release
  let tHeld = null; let heldBy = null; let heldMtime = null
  let onHeld = () => {}
  const heldPromise = new Promise(resolve => { onHeld = resolve })
  const check = (by) => {
    if (tHeld != null) return
    const held = readJsonFile(heldFile)
    if (!(held?.releases ?? []).includes(seeder.target_path)) return
    tHeld = Date.now(); heldBy = by
    try { heldMtime = Math.round(fs.statSync(heldFile).mtimeMs) } catch {}
    onHeld()
  }
  const watcher = fs.watch(dataDir, (_event, name) => { if (name == null || name === 'held.json') check('watch') })
  const t0 = await h.waitGo()
  h.cpuMark()
  const wrapper0 = process.cpuUsage()
  const daemon0 = cpuMs(child.pid)
  check('go')
  let lastMtime = 0
  let failure = null
  const poll = setInterval(() => {
    if (child.exitCode != null || child.signalCode != null) { failure = new Error('umesh node exited before it held the release'); onHeld(); return }
    if (fs.existsSync(path.join(h.runDir, 'stop'))) { failure = new Error('stop before the release was held'); onHeld(); return }
    try { const m = fs.statSync(heldFile).mtimeMs; if (m !== lastMtime) { lastMtime = m; check('poll') } } catch {}
  }, 250)
  await heldPromise
  clearInterval(poll)
  watcher.close()
  if (failure != null && tHeld == null) throw failure
  const daemon1 = cpuMs(child.pid)
  const wrapper = process.cpuUsage(wrapper0)
  const daemonUser = daemon0 && daemon1 ? Math.round(daemon1.user - daemon0.user) : null
  const daemonSys = daemon0 && daemon1 ? Math.round(daemon1.sys - daemon0.sys) : null
  h.log(`held ${seeder.package} ${seeder.version} ${((tHeld - t0) / 1000).toFixed(2)} s after GO (seen by ${heldBy})`)

  // ---- outside the timed figure: the install, then SB_OUT from the installed tree
  const historyFile = path.join(installRoot, 'history.jsonl')
  let entry = null
  const tInstallWait = Date.now()
  while (entry == null) {
    try {
      const lines = fs.readFileSync(historyFile, 'utf8').split('\n').filter(l => l.trim() !== '')
      for (const l of lines) { try { const e = JSON.parse(l); if (e.to === seeder.version) entry = e } catch {} }
    } catch {}
    if (entry != null) break
    if (child.exitCode != null || fs.existsSync(path.join(h.runDir, 'stop')) || Date.now() - tInstallWait > 120000) break
    await h.sleep(20)
  }
  const tInstallSeen = Date.now()
  const installed = entry?.outcome === 'installed'
  if (!installed) h.log(`install: ${entry ? `${entry.outcome} at ${entry.step ?? '?'}: ${entry.reason}` : 'no history entry'}`)
  const installedFile = path.join(installRoot, 'current', seeder.release_file)
  const sink = h.sink()
  const tv = Date.now()
  let source
  if (installed && fs.existsSync(installedFile)) {
    source = 'installed tree'
    for await (const chunk of fs.createReadStream(installedFile, { highWaterMark: 1 << 20 })) await sink.write(chunk)
  } else {
    source = 'chunk store'
    const index = JSON.parse(fs.readFileSync(path.join(dataDir, 'tuf', 'targets', `${seeder.index_sha256}.index.json`), 'utf8'))
    const file = index.files.find(f => f.path === seeder.release_file) ?? index.files[0]
    for (const c of file.chunks) await sink.write(fs.readFileSync(chunkPath(path.join(dataDir, 'chunks'), c.cid)))
  }
  const r = await sink.end()
  const verifyMs = Date.now() - tv
  let end = null
  try { end = await status(cli, dataDir, { timeoutMs: 3000 }) } catch (err) { h.log(`status at done: ${err.message}`) }
  const endPeers = end ? meshPeers(end, h.addr) : null
  await h.done(t0, {
    ...r,
    t_done_ms: tHeld,
    held_seen_by: heldBy,
    held_file_mtime_ms: heldMtime,
    // CPU GO -> held: the daemon (/proc ticks) + this wrapper
    cpu_user_ms: (daemonUser ?? 0) + Math.round(wrapper.user / 1000),
    cpu_sys_ms: (daemonSys ?? 0) + Math.round(wrapper.system / 1000),
    daemon_cpu_ms: daemonUser != null ? daemonUser + daemonSys : null,
    wrapper_cpu_ms: Math.round((wrapper.user + wrapper.system) / 1000),
    install_outcome: entry?.outcome ?? null,
    install_error: installed ? null : (entry ? `${entry.outcome} at ${entry.step ?? '?'}: ${entry.reason}` : 'no install seen'),
    // held -> installed (the history line's finishedAt), and the install's own start -> finish
    install_ms: entry ? Date.parse(entry.finishedAt) - tHeld : null,
    install_started_after_held_ms: entry ? Date.parse(entry.startedAt) - tHeld : null,
    install_step_ms: entry ? Date.parse(entry.finishedAt) - Date.parse(entry.startedAt) : null,
    install_seen_after_held_ms: tInstallSeen - tHeld,
    out_from: source,
    verify_ms: verifyMs,
    connections_at_done: endPeers?.length ?? null,
    peers_at_done: endPeers ? new Set(endPeers.map(p => p.peerId)).size : null,
    traffic_at_done: end?.traffic ?? null,
    rss_mib_daemon_at_done: end?.resources?.rssBytes != null ? Math.round(Number(end.resources.rssBytes) / 1048576) : null
  })
  h.log(`done in ${((tHeld - t0) / 1000).toFixed(2)} s ok=${r.ok}; install ${entry ? `${entry.outcome} ${Date.parse(entry.finishedAt) - tHeld} ms after held` : 'not seen'}; SB_OUT from the ${source} in ${verifyMs} ms`)

  // keep serving until stop (run.sh waits 3 s for its processes after 'stop')
  await h.waitStop()
  const ms = await terminate(child.pid, 2000)
  h.log(`stop: umesh node ended in ${ms} ms`)
  process.exit(r.ok ? 0 : 1)
} catch (err) {
  if (child?.pid) await terminate(child.pid, 500)
  await h.fail(err)
}
