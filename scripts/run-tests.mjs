#!/usr/bin/env node
// Runs the compiled tests with node's test runner: `node scripts/run-tests.mjs [unit|integration]`.
// Unit tests live in folders that mirror src/ (dist/test/unit/<folder>/*.test.js); every
// file is found recursively. One test file at a time: integration tests start many
// processes, and CI has two cores.
import { spawnSync } from 'node:child_process'
import { readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const suites = process.argv[2] != null ? [process.argv[2]] : ['unit', 'integration']
const files = []
for (const suite of suites) {
  const dir = join('dist', 'test', suite)
  if (!existsSync(dir)) continue
  files.push(...readdirSync(dir, { recursive: true }).filter(f => f.endsWith('.test.js')).sort().map(f => join(dir, f)))
}
if (files.length === 0) {
  console.error('no compiled tests under dist/test: run `npm run build` first')
  process.exit(1)
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=240000', '--test-reporter=spec', ...files], { stdio: 'inherit' })
process.exit(result.status ?? 1)
