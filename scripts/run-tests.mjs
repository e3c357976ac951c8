#!/usr/bin/env node
// Runs the compiled tests with node's test runner: `node scripts/run-tests.mjs [unit|integration]`.
// Unit tests live in folders that mirror src/ (dist/test/unit/<folder>/*.test.js); every
// file is found recursively. Within a suite, one file at a time: integration tests start many
// processes, and CI has two cores. With no argument the two suites run side by side (the unit
// tests are light: about 3 minutes of mostly idle waits, against 13 of integration), the unit
// suite's report printed when it ends, so the whole run stays well inside CI's time.
import { spawn } from 'node:child_process'
import { readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const suites = process.argv[2] != null ? [process.argv[2]] : ['unit', 'integration']

function filesOf (suite) {
  const dir = join('dist', 'test', suite)
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true }).filter(f => f.endsWith('.test.js')).sort().map(f => join(dir, f))
}

const runs = suites.map(suite => ({ suite, files: filesOf(suite) })).filter(r => r.files.length > 0)
if (runs.length === 0) {
  console.error('no compiled tests under dist/test: run `npm run build` first')
  process.exit(1)
}

/** one suite through node's test runner; the last suite started reports live, the others when they end */
function run ({ suite, files }, live) {
  return new Promise(resolve => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=240000', '--test-reporter=spec', ...files], { stdio: live ? 'inherit' : ['ignore', 'pipe', 'pipe'] })
    const out = []
    child.stdout?.on('data', b => out.push(b))
    child.stderr?.on('data', b => out.push(b))
    child.on('close', code => {
      if (!live) process.stdout.write(`\n===== ${suite} tests =====\n${Buffer.concat(out).toString()}`)
      console.log(`===== ${suite} tests: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} =====`)
      resolve(code ?? 1)
    })
  })
}

const codes = await Promise.all(runs.map((r, i) => run(r, i === runs.length - 1)))
process.exit(codes.every(c => c === 0) ? 0 : 1)
