#!/usr/bin/env node
/**
 * Entry point of the node daemon, for service managers that run a file
 * rather than the umesh CLI: `node dist/node/main.js [options]` is
 * `umesh node [options]`.
 */
import '../src/polyfill.js'
import { run } from '../src/cli/run.js'

process.exit(await run(['node', ...process.argv.slice(2)]))
