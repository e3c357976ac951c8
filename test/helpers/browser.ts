/**
 * A real browser for the dashboard's tests: Debian's chromium driven by
 * playwright-core (no browser download). Outside CI a machine without
 * chromium skips those tests, saying why; under CI (process.env.CI, and
 * .ci/run installs chromium when it is missing) they must run, so a missing
 * chromium fails them.
 */
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

/** the chromium binary; UMESH_CHROMIUM names another (e.g. to see the skip) */
export const CHROMIUM = process.env.UMESH_CHROMIUM ?? '/usr/bin/chromium'

const underCi = (): boolean => process.env.CI != null && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0'

/** why the browser tests cannot run on this machine, or undefined when they must run */
export function browserSkipReason (): string | undefined {
  if (existsSync(CHROMIUM) || underCi()) return undefined
  return `${CHROMIUM} is missing (apt-get install chromium) and this is not CI: the browser test is skipped`
}

/** headless chromium; --no-sandbox because CI runs as root */
export async function launchChromium (): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: under CI the browser test must run (.ci/run installs Debian's chromium)`)
  return await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: 30_000 })
}

/** closes the browser, giving up after `timeoutMs` (playwright kills the process when ours exits) */
export async function closeBrowser (browser: Browser | undefined, timeoutMs = 10_000): Promise<void> {
  if (browser == null) return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    browser.close().catch(() => {}),
    new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })
  ])
  clearTimeout(timer)
}
