/**
 * The follow benchmark's report: the steps of one follow with their time
 * and CPU, the follower's memory before and after, the serving node's
 * memory, and the figures against their targets.
 */
import { mb, section, table } from '../report.js'
import { AFTER_INSTALL_RSS_TARGET, FOLLOW_MIBS_TARGET, IDLE_RSS_TARGET, IDLE_TAIL_MS, MiB, SERVE_RSS_BAND, SETTLED_RSS_MARGIN } from './options.js'
import { out } from './output.js'
import type { FollowRun } from './follow-run.js'
import type { ProcSample } from './proc-sampler.js'
import type { OnePass } from './release.js'
import type { ServeRun } from './serve-run.js'
import type { MemoryView } from './status.js'

export type Verdict = [what: string, figure: string, target: string, verdict: string]

export function rate (bytes: number, ms: number | undefined): string {
  return ms == null || !Number.isFinite(ms) || ms <= 0 ? '-' : `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`
}

function msText (ms: number | undefined): string {
  return ms == null || !Number.isFinite(ms) ? '-' : `${Math.round(ms)} ms`
}

function median (xs: number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

export function verdict (ok: boolean | undefined, miss: string): string {
  return ok == null ? 'not measured' : ok ? 'met' : `MISSED (${miss})`
}

function sampleAt (samples: ProcSample[], at: number): ProcSample | undefined {
  let found: ProcSample | undefined
  for (const s of samples) {
    if (s.at > at) break
    found = s
  }
  return found
}

function heapCells (m: MemoryView | undefined): string[] {
  return m == null ? ['-', '-', '-', '-'] : [mb(m.heapUsed), mb(m.heapTotal), mb(m.external), mb(m.arrayBuffers)]
}

/** the follower's RSS at the points the targets name */
export interface FollowMemory {
  idle: number
  peak?: number
  at20?: number
  at60?: number
}

export function followMemory (run: FollowRun): FollowMemory {
  const f = run.follower
  const a = run.steps.announced
  const i = run.steps.installed
  const idleSamples = run.publishAt != null ? f.filter(s => s.at >= run.publishAt! - IDLE_TAIL_MS && s.at <= run.publishAt!) : []
  const end = i != null ? i.arrived + 60_000 : undefined
  const window = a != null ? f.filter(s => s.at >= a.arrived && (end == null || s.at <= end + 1_000)) : []
  const last = f.at(-1)
  const covered = (at: number): boolean => last != null && last.at >= at - 1_000
  return {
    idle: median(idleSamples.map(s => s.rss)),
    peak: window.length > 0 ? Math.max(...window.map(s => s.rss)) : undefined,
    at20: i != null && covered(i.arrived + 20_000) ? sampleAt(f, i.arrived + 20_000)?.rss : undefined,
    at60: i != null && covered(i.arrived + 60_000) ? sampleAt(f, i.arrived + 60_000)?.rss : undefined
  }
}

export function printFollow (run: FollowRun, bytes: number, files: number, pass: OnePass | undefined): Verdict[] {
  const verdicts: Verdict[] = []
  out(section(`1. One follower fetching and installing ${bytes / MiB} MiB from one publisher (loopback): ${run.round.label}`))
  out(`  release: ${bytes / MiB} MiB of seeded pseudo-random bytes in ${files} files; umesh release add took ${msText(run.releaseAddMs)} (the publisher's side, before the announcement; not in the figures below); timestamp v${run.timestampVersion ?? '-'}`)
  if (run.error != null) out(`  ERROR: ${run.error}`)
  const a = run.steps.announced
  if (a != null) {
    const rows: string[][] = []
    let prev: typeof a | undefined
    for (const [name, label] of [['announced', 'announcement seen'], ['indexVerified', 'index verified'], ['held', 'held (every chunk fetched, verified, stored)'], ['staging', 'staging started'], ['staged', 'staged (files written, hashed, fsynced)'], ['installed', 'installed healthy (bless)'], ['collected', 'the daemon\'s one collection after the transfer']] as const) {
      const m = run.steps[name]
      const cpu = m?.sample != null && a.sample != null ? m.sample.cpuMs - a.sample.cpuMs : undefined
      const step = m != null && prev != null ? m.time - prev.time : undefined
      const stepCpu = m?.sample != null && prev?.sample != null ? m.sample.cpuMs - prev.sample.cpuMs : undefined
      rows.push([label, m == null ? '-' : msText(m.time - a.time), msText(step), msText(cpu), msText(stepCpu)])
      if (m != null) prev = m
    }
    out(table(['follower step (its log lines, DEBUG=umesh:follower,umesh:install)', 'since announcement', 'step', 'follower CPU since', 'step CPU'], rows))
  }
  const i = run.steps.installed
  const h = run.steps.held
  const total = a != null && i != null ? i.time - a.time : undefined
  const cpu = a?.sample != null && i?.sample != null ? i.sample.cpuMs - a.sample.cpuMs : undefined
  const fetchMs = a != null && h != null ? h.time - a.time : undefined
  const fetchCpu = a?.sample != null && h?.sample != null ? h.sample.cpuMs - a.sample.cpuMs : undefined
  const installMs = h != null && i != null ? i.time - h.time : undefined
  const installCpu = h?.sample != null && i?.sample != null ? i.sample.cpuMs - h.sample.cpuMs : undefined
  const mibs = total != null ? bytes / MiB / (total / 1000) : undefined
  out(`  announcement seen -> installed healthy: ${msText(total)}, ${rate(bytes, total)} (target >= ${FOLLOW_MIBS_TARGET} MiB/s); follower CPU ${msText(cpu)}, ${cpu != null ? (cpu / (bytes / MiB)).toFixed(1) : '-'} ms per MiB`)
  out(`    of which fetch (announcement -> held): ${msText(fetchMs)}, ${rate(bytes, fetchMs)}, CPU ${fetchCpu != null ? (fetchCpu / (bytes / MiB)).toFixed(1) : '-'} ms per MiB; install (held -> installed): ${msText(installMs)}, ${rate(bytes, installMs)}, CPU ${installCpu != null ? (installCpu / (bytes / MiB)).toFixed(1) : '-'} ms per MiB`)
  if (pass != null) out(`  baselines, same run, same bytes: sha256 of every file ${msText(pass.sha256Ms)} (${rate(bytes, pass.sha256Ms)}); read + write + fsync copy of every file ${msText(pass.copyFsyncMs)} (${rate(bytes, pass.copyFsyncMs)})`)
  verdicts.push(['follow, announcement seen to installed healthy', rate(bytes, total), `>= ${FOLLOW_MIBS_TARGET} MiB/s`, verdict(mibs == null ? undefined : mibs >= FOLLOW_MIBS_TARGET, `${mibs != null ? (FOLLOW_MIBS_TARGET - mibs).toFixed(1) : '-'} MiB/s short`)])

  out(section(`Follower memory (${run.round.label}): RSS from /proc every sample; heap and external from its status; MB = 10^6 bytes`))
  const f = run.follower
  const end = i != null ? i.arrived + 60_000 : undefined
  const { idle, peak, at20, at60 } = followMemory(run)
  const idleWindow = run.idleFrom != null && run.publishAt != null ? f.filter(s => s.at >= run.idleFrom! && s.at <= run.publishAt!).map(s => s.rss) : []
  out(table(['point', 'RSS', 'target', 'heap used', 'heap total', 'external', 'array buffers'], [
    [`idle (median of the last ${IDLE_TAIL_MS / 1000} s before the publish)`, mb(idle), `<= ${mb(IDLE_RSS_TARGET)}`, ...heapCells(run.memory.idle)],
    ['peak, announcement to +60 s', mb(peak), '', '-', '-', '-', '-'],
    ['installed healthy', mb(i?.sample?.rss), '', ...heapCells(run.memory.installed)],
    ['+20 s', mb(at20), `<= ${mb(AFTER_INSTALL_RSS_TARGET)}`, ...heapCells(run.memory.after20)],
    ['+60 s', mb(at60), `<= idle + ${mb(SETTLED_RSS_MARGIN)}`, ...heapCells(run.memory.after60)]
  ]))
  if (idleWindow.length > 0) out(`  idle window (${idleWindow.length} samples from connected to the publish): first ${mb(idleWindow[0])}, min ${mb(Math.min(...idleWindow))}, max ${mb(Math.max(...idleWindow))}`)
  if (a != null) {
    const marks: string[] = []
    for (let t = -5_000; end != null && t <= end - a.arrived; t += 5_000) {
      const s = sampleAt(f, a.arrived + t)
      if (s != null) marks.push(`${t >= 0 ? '+' : ''}${t / 1000}s ${(s.rss / 1e6).toFixed(0)}`)
    }
    out(`  RSS (MB) every 5 s from the announcement: ${marks.join(', ')}`)
  }
  const p = run.publisher
  const pIdle = run.idleFrom != null && run.publishAt != null ? median(p.filter(s => s.at >= run.idleFrom! && s.at <= run.publishAt!).map(s => s.rss)) : undefined
  const pWin = a != null ? p.filter(s => s.at >= a.arrived && (end == null || s.at <= end)) : []
  out(`  the publisher in part 1: idle ${mb(pIdle)}, peak while serving ${mb(pWin.length > 0 ? Math.max(...pWin.map(s => s.rss)) : undefined)}, at the follower's +60 s ${mb(end != null ? sampleAt(p, end)?.rss : undefined)}`)
  verdicts.push(['RSS of an idle node (the follower)', mb(idle), `<= ${mb(IDLE_RSS_TARGET)}`, verdict(Number.isFinite(idle) ? idle <= IDLE_RSS_TARGET : undefined, `${mb(idle - IDLE_RSS_TARGET)} over`)])
  verdicts.push(['RSS 20 s after installing the release', mb(at20), `<= ${mb(AFTER_INSTALL_RSS_TARGET)}`, verdict(at20 == null ? undefined : at20 <= AFTER_INSTALL_RSS_TARGET, `${mb((at20 ?? 0) - AFTER_INSTALL_RSS_TARGET)} over`)])
  verdicts.push(['RSS 60 s after, against idle', at60 != null ? `${mb(at60)} (idle + ${mb(at60 - idle)})` : '-', `<= idle + ${mb(SETTLED_RSS_MARGIN)}`, verdict(at60 != null && Number.isFinite(idle) ? at60 - idle <= SETTLED_RSS_MARGIN : undefined, `${mb((at60 ?? 0) - idle - SETTLED_RSS_MARGIN)} over`)])
  return verdicts
}

/** the same build's follower started as a plain umesh node beside one started with the memory settings */
export function printPlainBaseline (baseline: FollowRun, tuned: FollowRun, bytes: number): void {
  out(section('Follower memory and speed, the same build, same run: a plain umesh node against one started with the memory settings'))
  const rows = [baseline, tuned].map(run => {
    const m = followMemory(run)
    const a = run.steps.announced
    const i = run.steps.installed
    const total = a != null && i != null ? i.time - a.time : undefined
    const cpu = a?.sample != null && i?.sample != null ? i.sample.cpuMs - a.sample.cpuMs : undefined
    return [run.round.label, mb(m.idle), mb(m.peak), mb(m.at20), mb(m.at60), m.at60 != null ? mb(m.at60 - m.idle) : '-', rate(bytes, total), cpu != null ? (cpu / (bytes / MiB)).toFixed(1) : '-']
  })
  out(table(['follower', 'idle', 'peak', '+20 s', '+60 s', '+60 s - idle', 'announced -> installed', 'CPU ms/MiB'], rows))
}

export function printServe (run: ServeRun, bytes: number): Verdict[] {
  const n = run.fetches.length
  out(section(`2. One node (the publisher) serving ${n} x ${bytes / MiB} MiB to fresh followers, one after another`))
  if (run.error != null) out(`  ERROR: ${run.error}`)
  out(table(['follower', 'ready -> held', 'rate', 'its CPU', 'error'], run.fetches.map(x => [x.name, msText(x.readyToHeldMs), rate(bytes, x.readyToHeldMs), msText(x.cpuMs), x.error ?? ''])))
  const sent = run.uploaded != null ? run.uploaded.after - run.uploaded.before : undefined
  out(`  chunk data the publisher sent (status bandwidth.uploadedBytes): ${sent != null && Number.isFinite(sent) ? `${(sent / MiB).toFixed(0)} MiB` : '-'}`)
  const w = run.from != null && run.to != null ? run.publisher.filter(s => s.at >= run.from! && s.at <= run.to!) : []
  const start = w[0]?.rss
  const endS = w.at(-1)?.rss
  const min = w.length > 0 ? Math.min(...w.map(s => s.rss)) : undefined
  const max = w.length > 0 ? Math.max(...w.map(s => s.rss)) : undefined
  const cpu = w.length > 1 ? w.at(-1)!.cpuMs - w[0].cpuMs : undefined
  out(`  publisher RSS over ${w.length} samples: start ${mb(start)}, min ${mb(min)}, max ${mb(max)}, end ${mb(endS)} (5 s after the last follower stopped); max - start ${mb(max != null && start != null ? max - start : undefined)}; its CPU ${msText(cpu)}${sent != null && cpu != null && sent > 0 ? `, ${(cpu / (sent / MiB)).toFixed(1)} ms per MiB sent` : ''}`)
  const maxAt = w.find(s => s.rss === max)
  const split = (s: ProcSample | undefined): string => s != null ? `${mb(s.anon)} + ${mb(s.rss - s.anon)}` : '-'
  out(`  of which anonymous + file-backed: start ${split(w[0])}, at the max ${split(maxAt)}, end ${split(w.at(-1))}`)
  const after = run.fetches.map(x => x.heldAt != null ? `${x.name} ${mb(sampleAt(w, x.heldAt)?.rss)}` : `${x.name} -`)
  out(`  publisher RSS when each follower held the release: ${after.join(', ')}`)
  const marks: string[] = []
  for (let t = 0; w.length > 0 && w[0].at + t <= w.at(-1)!.at; t += 5_000) marks.push(`${t / 1000}s ${((sampleAt(w, w[0].at + t)?.rss ?? NaN) / 1e6).toFixed(0)}`)
  out(`  publisher RSS (MB) every 5 s: ${marks.join(', ')}`)
  out(table(['publisher, from status', 'heap used', 'heap total', 'external', 'array buffers'], [
    ['before the first follower', ...heapCells(run.memory.before)],
    ['after the last', ...heapCells(run.memory.after)]
  ]))
  const band = max != null && min != null && start != null ? Math.max(max - start, start - min) : undefined
  return [['serving node RSS while serving, max deviation from its start', mb(band), `within +-${mb(SERVE_RSS_BAND)}`, verdict(band == null ? undefined : band <= SERVE_RSS_BAND, `${mb((band ?? 0) - SERVE_RSS_BAND)} over`)]]
}
