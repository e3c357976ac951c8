#!/usr/bin/env node
/**
 * umesh: the command-line entry point. The polyfill comes first; each
 * command's module is imported only when that command runs, so a quick
 * command does not pay for loading the whole libp2p stack.
 */
import '../polyfill.js'
import { run } from './run.js'

const code = await run(process.argv.slice(2))
process.exit(code)
