#!/usr/bin/env node
/**
 * Entry point of a bootstrap node: `node dist/bootstrap/main.js [options]`
 * is `umesh bootstrap [options]`.
 */
import '../src/polyfill.js'
import { run } from '../src/cli/run.js'

process.exit(await run(['bootstrap', ...process.argv.slice(2)]))
