#!/usr/bin/env node
// Bundles the compiled CLI (dist/src/cli/main.js) into dist/umesh.mjs, the installed
// `umesh`, and dist/chunks/: loading a few files instead of some 700 modules halves
// start-up and saves about 20 MB per daemon (see README, Benchmarks). What is imported
// dynamically (each CLI command, the HTTP listener with Fastify and prom-client) is its
// own chunk, loaded only when used: a daemon without --http-listen never even parses
// the listener's code (one file held 7 MB more per daemon). classic-level stays
// outside: it loads its native binary from its own folder.
import { cpSync, mkdirSync } from 'node:fs'
import { build } from 'esbuild'

await build({
  entryPoints: { umesh: 'dist/src/cli/main.js' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['classic-level'],
  logLevel: 'warning',
  // CommonJS dependencies inside an ES module bundle still call require()
  banner: { js: "import { createRequire as __umeshCreateRequire } from 'node:module'; const require = __umeshCreateRequire(import.meta.url);" }
})

// the dashboard: static files served by the HTTP listener, and htm's bundled Preact (no CDN at run time)
cpSync('dashboard', 'dist/dashboard', { recursive: true })
mkdirSync('dist/dashboard/vendor', { recursive: true })
cpSync('node_modules/htm/preact/standalone.mjs', 'dist/dashboard/vendor/htm-preact.mjs')
