#!/usr/bin/env node
// Bundles the compiled CLI (dist/src/cli/main.js) into one file, dist/umesh.mjs, the
// installed `umesh`: loading one file instead of some 700 modules halves start-up and
// saves about 20 MB per daemon (see README, Benchmarks). classic-level stays outside:
// it loads its native binary from its own folder.
import { cpSync, mkdirSync } from 'node:fs'
import { build } from 'esbuild'

await build({
  entryPoints: ['dist/src/cli/main.js'],
  outfile: 'dist/umesh.mjs',
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
