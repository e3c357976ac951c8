#!/usr/bin/env node
// Runs the compiled tests with node's test runner: `node scripts/run-tests.mjs [unit|integration]`.
// Unit tests live in folders that mirror src/ (dist/test/unit/<folder>/*.test.js); every
// file is found recursively.
//
// With no argument every file runs in two lanes side by side, one file at a time within a
// lane: CI has two cores, and most integration time is waiting (health gates, bake times,
// shaped links), so two lanes take about half the time of one. Lane A holds the unit suite and
// every test in network namespaces (the heaviest on CPU, so two never overlap); the other
// files are dealt to the lane with less work, the slowest first, by the times below. The lane
// started last reports live; the other's report is printed when it ends, and a summary at the
// very end names the failing tests of every lane (CI shows the end of the output).
// With an argument, that suite runs alone, one file at a time.
import { spawn } from 'node:child_process'
import { readdirSync, existsSync } from 'node:fs'
import { basename, join } from 'node:path'

/** seconds each slow file took in a CI run on two cores; a file not named counts as 10 s, the unit suite as 175 s */
const SECONDS = {
  'rollout-selectors': 125,
  'rollout-control': 90,
  'swarm-netns': 85,
  'partition-netns': 76,
  demo: 63,
  rollout: 60,
  'churn-netns': 52,
  'attacks-data-trust': 30,
  'dashboard-browser': 26,
  'attacks-data-floods': 22,
  mesh: 21,
  attacks: 21,
  'install-crash': 19,
  'publisher-gone-netns': 18,
  releases: 17,
  'nat-netns': 16,
  'loss-netns': 15,
  'http-api': 15,
  'mdns-netns': 15,
  install: 11,
  quic: 11
}
const UNIT_SECONDS = 175
const secondsOf = file => SECONDS[basename(file, '.test.js')] ?? 10

function filesOf (suite) {
  const dir = join('dist', 'test', suite)
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true }).filter(f => f.endsWith('.test.js')).sort().map(f => join(dir, f))
}

function lanes (only) {
  if (only != null) return [{ name: only, files: filesOf(only) }]
  const unit = filesOf('unit')
  const integration = filesOf('integration')
  const a = { name: 'lane A (unit, network namespaces)', files: [...unit], seconds: unit.length > 0 ? UNIT_SECONDS : 0 }
  const b = { name: 'lane B', files: [], seconds: 0 }
  for (const file of integration.filter(f => f.endsWith('-netns.test.js'))) {
    a.files.push(file)
    a.seconds += secondsOf(file)
  }
  const rest = integration.filter(f => !f.endsWith('-netns.test.js')).sort((x, y) => secondsOf(y) - secondsOf(x))
  for (const file of rest) {
    const lane = a.seconds < b.seconds ? a : b
    lane.files.push(file)
    lane.seconds += secondsOf(file)
  }
  return [a, b]
}

const runs = lanes(process.argv[2]).filter(r => r.files.length > 0)
if (runs.length === 0) {
  console.error('no compiled tests under dist/test: run `npm run build` first')
  process.exit(1)
}

/** one lane through node's test runner; the last lane started reports live, the others when they end */
function run ({ name, files }, live) {
  return new Promise(resolve => {
    const started = Date.now()
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=240000', '--test-reporter=spec', ...files], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out = []
    const take = stream => b => {
      out.push(b)
      if (live) stream.write(b)
    }
    child.stdout.on('data', take(process.stdout))
    child.stderr.on('data', take(process.stderr))
    child.on('close', code => {
      const text = Buffer.concat(out).toString()
      if (!live) process.stdout.write(`\n===== ${name} =====\n${text}`)
      const line = `===== ${name}: ${files.length} files in ${Math.round((Date.now() - started) / 1000)} s: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} =====`
      console.log(line)
      resolve({ name, code: code ?? 1, line, failures: failuresOf(text) })
    })
  })
}

/** the spec reporter's closing list of failing tests, with the first lines of each error */
function failuresOf (text) {
  const at = text.lastIndexOf('✖ failing tests:')
  if (at < 0) return ''
  return text.slice(at).split('\n').slice(0, 80).join('\n')
}

const results = await Promise.all(runs.map((r, i) => run(r, i === runs.length - 1)))
// the end of the output names every lane's failures, whichever lane reported live
if (results.length > 1) {
  console.log('\n===== summary =====')
  for (const r of results) {
    console.log(r.line)
    if (r.code !== 0) console.log(r.failures === '' ? '(no failing test named: the lane itself failed; its output is above)' : r.failures)
  }
}
process.exit(results.every(r => r.code === 0) ? 0 : 1)
