/**
 * The software version, read once from the project's package.json: one level
 * above the bundle (dist/umesh.mjs), two above the compiled modules (dist/src/).
 */
import { readFileSync } from 'node:fs'

export const VERSION: string = (() => {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8'))
      if (pkg.name === 'update-mesh') return pkg.version
    } catch {}
  }
  return '0.0.0-unknown'
})()
