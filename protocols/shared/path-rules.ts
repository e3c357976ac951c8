/**
 * The rules a path from elsewhere must obey before this node uses it to name
 * a file: relative, no "." or ".." components, no empty components, no
 * backslash, no control or bidi characters, valid UTF-8, NFC-normalized, and
 * within the lengths a file system allows. Release trees (`src/release`), the
 * sync protocol's served paths and the install stage all check paths with
 * these rules, so a name one part accepts is never refused by another.
 */

export const MAX_PATH_BYTES = 4096
export const MAX_COMPONENT_BYTES = 255

// characters that would break the one-line message or disguise the name on a terminal
const INVISIBLE = /[\p{Cc}\p{Zl}\p{Zp}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu
const FORBIDDEN = /[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/u

/** a path in double quotes with control characters escaped, shortened if very long */
export function quotePath (path: string): string {
  const short = path.length > 200 ? `${path.slice(0, 100)}…${path.slice(-60)}` : path
  const escaped = short.replace(/["\\]/g, '\\$&')
    .replace(INVISIBLE, c => `\\u{${c.codePointAt(0)?.toString(16) ?? ''}}`)
  return `"${escaped}"`
}

function codePoints (text: string): string {
  return [...text].map(c => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`).join(' ')
}

/**
 * Checks one path as written (posix separators, relative): the first rule it
 * breaks, worded with what to do, or undefined when it obeys them all.
 */
export function pathProblem (path: string): string | undefined {
  if (path.length === 0) return 'the entry has an empty name; remove it or give it a name'
  if (path.startsWith('/')) return 'the path is absolute; a release may only contain files below its root, so store it relative to the tree root'
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `the path is ${Buffer.byteLength(path)} bytes long, more than the ${MAX_PATH_BYTES} allowed; shorten it`
  if (path.includes('\\')) return 'the name contains a backslash, which some systems read as a path separator; rename it'
  if (path.includes('\ufffd')) return 'the name is not valid UTF-8 (or contains U+FFFD); rename it to valid UTF-8'
  const bad = FORBIDDEN.exec(path)
  if (bad != null) return `the name contains the control character ${codePoints(bad[0])}; rename it using printable characters only`
  for (const component of path.split('/')) {
    if (component === '') return 'the path has an empty component ("//" or a trailing "/"); remove the extra "/"'
    if (component === '.') return 'a path component is "."; write the path without "./" parts'
    if (component === '..') return 'a path component is ".."; a release may only contain files below its root'
    if (Buffer.byteLength(component) > MAX_COMPONENT_BYTES) {
      return `the name ${quotePath(component.slice(0, 40) + '…')} is ${Buffer.byteLength(component)} bytes long, more than the ${MAX_COMPONENT_BYTES} a file system allows; shorten it`
    }
    const nfc = component.normalize('NFC')
    if (nfc !== component) {
      let i = 0
      while (i < component.length && component[i] === nfc[i]) i++
      return `the name is not NFC-normalized Unicode (it spells ${codePoints(component.slice(Math.max(0, i - 1), i + 2))} where NFC has ${codePoints(nfc.slice(Math.max(0, i - 1), i + 1))}); rename it to its NFC form, e.g. with convmv --nfc`
    }
  }
  return undefined
}
