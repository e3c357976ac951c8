/**
 * The import rules between folders, checked on the source: the table in the
 * README's Layout (between the import-rules markers) says what each folder
 * may import; this test reads every import of every file under src/,
 * protocols/, node/ and bootstrap/ (static, type-only, side-effect,
 * re-exports and dynamic imports) and fails on an arrow the table does not
 * allow. Four rules hold whatever the table says: nothing under protocols/
 * imports src/, install/ never imports follow/, only the entry points import
 * cli/, and no two folders import each other, directly or round a cycle.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const CHECKED = ['src', 'protocols', 'node', 'bootstrap']
const ENTRY_POINTS = new Set(['src/cli', 'node', 'bootstrap'])

export interface ImportArrow {
  from: string
  to: string
  file: string
  line: number
  specifier: string
}

function sourceFiles (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path))
    else if (name.endsWith('.ts')) out.push(path)
  }
  return out
}

/** the folder a file belongs to: src/<folder>, protocols/<folder>, node, bootstrap, or src for the files at its root */
export function folderOf (path: string): string {
  const parts = relative(ROOT, path).split('/')
  if (parts[0] === 'src' || parts[0] === 'protocols') return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0]
  return parts[0]
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s(?:type\s)?[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm

/** every relative import of a source text, with its line */
export function importsOf (text: string): Array<{ specifier: string, line: number }> {
  const found: Array<{ specifier: string, line: number }> = []
  for (const m of text.matchAll(IMPORT)) {
    const specifier = m[1] ?? m[2] ?? m[3]
    if (!specifier.startsWith('.')) continue
    const at = m.index + m[0].length - m[0].trimStart().length
    found.push({ specifier, line: text.slice(0, at).split('\n').length })
  }
  return found
}

export function arrows (): ImportArrow[] {
  const out: ImportArrow[] = []
  for (const top of CHECKED) {
    for (const file of sourceFiles(join(ROOT, top))) {
      const from = folderOf(file)
      for (const { specifier, line } of importsOf(readFileSync(file, 'utf8'))) {
        const to = folderOf(resolve(dirname(file), specifier))
        if (to !== from) out.push({ from, to, file: relative(ROOT, file), line, specifier })
      }
    }
  }
  return out
}

/** the README's table: folder -> the folders it may import */
export function readmeRules (): Map<string, Set<string>> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf('<!-- import-rules:start -->')
  const end = readme.indexOf('<!-- import-rules:end -->')
  assert.ok(start >= 0 && end > start, 'README.md has no import-rules table (<!-- import-rules:start --> ... <!-- import-rules:end -->)')
  const rules = new Map<string, Set<string>>()
  for (const row of readme.slice(start, end).split('\n').filter(l => l.startsWith('| `'))) {
    const cells = row.split('|').map(c => c.trim())
    const folder = cells[1].replace(/`/g, '').replace(/\/$/, '')
    const allowed = cells[3] === '-' ? [] : [...cells[3].matchAll(/`([^`]+)`/g)].map(m => m[1].replace(/\/$/, ''))
    rules.set(folder, new Set(allowed))
  }
  return rules
}

const where = (a: ImportArrow): string => `${a.file}:${a.line} imports ${a.specifier}`

/** the arrows that break a rule, each as a line that says which rule and where */
export function violations (all: ImportArrow[], rules: Map<string, Set<string>>): string[] {
  const out: string[] = []
  for (const a of all) {
    if (a.from.startsWith('protocols') && (a.to === 'src' || a.to.startsWith('src/'))) out.push(`protocols import nothing from src/: ${where(a)}`)
    if (a.from === 'src/install' && a.to === 'src/follow') out.push(`install/ never imports follow/ (held releases come through data-dir/ and the held event): ${where(a)}`)
    if (a.to === 'src/cli' && !ENTRY_POINTS.has(a.from)) out.push(`only the entry points import cli/: ${where(a)}`)
    if (ENTRY_POINTS.has(a.from) && a.from !== 'src/cli') continue
    if (a.from === 'src/cli') continue
    const allowed = rules.get(a.from)
    if (allowed == null) out.push(`${a.from} is not in the README's import-rules table; add a row that says what it may import: ${where(a)}`)
    else if (!allowed.has(a.to)) out.push(`${a.from} may not import ${a.to} (README, Layout): ${where(a)}`)
  }
  return [...new Set(out)]
}

/** folder cycles, each as "a -> b -> ... -> a" */
export function cycles (all: ImportArrow[]): string[] {
  const graph = new Map<string, Set<string>>()
  for (const a of all) {
    if (!graph.has(a.from)) graph.set(a.from, new Set())
    graph.get(a.from)!.add(a.to)
  }
  const found = new Set<string>()
  const path: string[] = []
  const state = new Map<string, 'open' | 'done'>()
  const visit = (node: string): void => {
    state.set(node, 'open')
    path.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.add([...path.slice(path.indexOf(next)), next].join(' -> '))
      else if (state.get(next) == null) visit(next)
    }
    path.pop()
    state.set(node, 'done')
  }
  for (const node of [...graph.keys()].sort()) if (state.get(node) == null) visit(node)
  return [...found]
}

describe('import rules between folders', () => {
  const all = arrows()

  it('finds the imports it checks (static, type-only, side-effect, re-export, dynamic)', () => {
    const text = "import a from '../x/a.js'\nimport type { B } from '../y/b.js'\nimport '../z/c.js'\nexport { d } from '../w/d.js'\nconst e = await import('../v/e.js')\nimport f from 'lib'"
    assert.deepEqual(importsOf(text).map(i => i.specifier), ['../x/a.js', '../y/b.js', '../z/c.js', '../w/d.js', '../v/e.js'])
    assert.deepEqual(importsOf(text).map(i => i.line), [1, 2, 3, 4, 5])
    // the real tree: the daemon imports the install engine, the polyfill is a side-effect import of the entry points
    assert.ok(all.some(a => a.from === 'src/daemon' && a.to === 'src/install'))
    assert.ok(all.some(a => a.from === 'node' && a.to === 'src' && a.specifier.endsWith('polyfill.js')))
  })

  it('every folder under src/ (but cli/) and protocols/ has a row in the README table, and every row a folder', () => {
    const rules = readmeRules()
    const folders = new Set(CHECKED.filter(t => t === 'src' || t === 'protocols').flatMap(t => readdirSync(join(ROOT, t)).filter(n => statSync(join(ROOT, t, n)).isDirectory()).map(n => `${t}/${n}`)))
    folders.add('src')
    for (const f of folders) if (f !== 'src/cli') assert.ok(rules.has(f), `${f} has no row in the README's import-rules table`)
    for (const f of rules.keys()) assert.ok(folders.has(f), `the README's import-rules table names ${f}, which does not exist`)
  })

  it('every folder (but cli/) has an index.ts whose header says what lives there and what it may import', () => {
    for (const f of readmeRules().keys()) {
      if (f === 'src') continue
      const text = readFileSync(join(ROOT, f, 'index.ts'), 'utf8')
      const header = text.startsWith('/**') ? text.slice(0, text.indexOf('*/')) : ''
      assert.ok(header.split('\n').length >= 4, `${f}/index.ts has no header comment saying what lives there`)
      assert.match(header, /Imports:/, `${f}/index.ts: its header does not say what the folder may import ("Imports: ...")`)
    }
  })

  it('no import breaks a rule', () => {
    assert.deepEqual(violations(all, readmeRules()), [])
  })

  it('no import cycle between folders', () => {
    assert.deepEqual(cycles(all), [])
  })

  it('would catch each kind of forbidden arrow', () => {
    const rules = new Map([['src/install', new Set(['src/follow'])], ['src/daemon', new Set(['src/cli'])], ['protocols/sync', new Set(['src/release'])]])
    const arrow = (from: string, to: string): ImportArrow => ({ from, to, file: `${from}/x.ts`, line: 1, specifier: `../${to}/y.js` })
    const found = violations([arrow('protocols/sync', 'src/release'), arrow('src/install', 'src/follow'), arrow('src/daemon', 'src/cli'), arrow('src/swarm', 'src/install')], rules)
    assert.equal(found.length, 4, found.join('\n'))
    assert.match(found[0], /protocols import nothing from src/)
    assert.match(found[1], /install\/ never imports follow/)
    assert.match(found[2], /only the entry points import cli/)
    assert.match(found[3], /src\/swarm is not in the README's import-rules table/)
    assert.deepEqual(cycles([arrow('src/a', 'src/b'), arrow('src/b', 'src/c'), arrow('src/c', 'src/a')]), ['src/a -> src/b -> src/c -> src/a'])
  })
})
