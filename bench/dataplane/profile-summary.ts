/**
 * Reads a V8 .cpuprofile (what end.ts writes with --profile) and summarizes
 * the main thread's busy self time (idle left out): by module (the npm
 * package, node's internals, this project, the GC) and by function. Time in
 * a native call (a syscall, a hash, a copy) is the self time of the native
 * frame or `(program)`; the kernel's own work for a read is not here.
 *
 *   node dist/bench/dataplane/profile-summary.js FILE.cpuprofile [--top 15]
 */
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { table } from '../report.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

/** the package a script belongs to: `@scope/name` or `name` under node_modules, node's own, or this project's folder */
export function moduleOf (url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm !== -1) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/')
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(5).split('/').slice(0, 2).join('/') : url.slice(5)}`
  const dist = url.indexOf('/dist/')
  return dist !== -1 ? `project ${url.slice(dist + 6).split('/').slice(0, 2).join('/')}` : url
}

export function summarizeProfile (file: string, top = 15): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const self = new Map<number, number>()
  // the first delta runs from Profiler.start to the first sample: the start call's own time, not the process's
  profile.samples.forEach((id, i) => { if (i > 0) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)) })
  let idle = 0
  const modules = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    if (functionName === '(idle)') {
      idle += us
      continue
    }
    const mod = moduleOf(url, functionName)
    modules.set(mod, (modules.get(mod) ?? 0) + us)
    const name = `${functionName === '' ? '(anonymous)' : functionName}  ${mod}${url !== '' ? `:${lineNumber + 1}` : ''}`
    functions.set(name, (functions.get(name) ?? 0) + us)
  }
  const busy = [...modules.values()].reduce((a, b) => a + b, 0)
  const pct = (us: number): string => `${(100 * us / busy).toFixed(1)} %`
  const rows = (m: Map<string, number>): string[][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => [k, pct(us), `${(us / 1000).toFixed(0)} ms`])
  return [
    `  main thread busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms, over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s; shares are of the busy time`,
    table(['self time by module', 'share', 'self'], rows(modules)),
    '',
    table(['self time by function', 'share', 'self'], rows(functions))
  ].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '15' } }, allowPositionals: true })
  for (const file of positionals) {
    process.stdout.write(`${file}\n${summarizeProfile(file, Number(values.top))}\n\n`)
  }
}
