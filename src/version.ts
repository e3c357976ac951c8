/** The software version, read once from package.json (two levels above dist/src/). */
import { readFileSync } from 'node:fs'

export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version
  } catch {
    return '0.0.0-unknown'
  }
})()
