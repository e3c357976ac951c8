/**
 * The schema rendered for people: `--help` text and the README's table.
 */
import { SCHEMA } from './schema.js'
import type { OptionSpec } from './schema.js'

function shownDefault (spec: OptionSpec): string {
  if (spec.key === 'dataDir') return '~/.umesh'
  const d = spec.default
  if (d == null) return '-'
  if (Array.isArray(d)) return d.length === 0 ? '[]' : d.join(',')
  if (typeof d === 'object') return JSON.stringify(d)
  return String(d)
}

function flagText (spec: OptionSpec): string {
  if (spec.arg == null) return `--${spec.flag} / --no-${spec.flag}`
  return `--${spec.flag} ${spec.arg}`
}

export function optionsHelp (): string {
  const rows = SCHEMA.map(s => [flagText(s), `${s.doc} [default: ${shownDefault(s)}; env ${s.env}${s.live ? '; reloads on SIGHUP' : ''}]`])
  const width = Math.max(...rows.map(r => r[0].length)) + 2
  return rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`).join('\n')
}

export function optionsMarkdown (): string {
  const lines = [
    '| config key | flag | environment | default | SIGHUP | meaning |',
    '| --- | --- | --- | --- | --- | --- |'
  ]
  for (const s of SCHEMA) {
    const key = s.inFile ? `\`${s.key}\`` : `(${s.key}: not in file)`
    lines.push(`| ${key} | \`${flagText(s)}\` | \`${s.env}\` | \`${shownDefault(s)}\` | ${s.live ? 'live' : 'restart'} | ${s.doc.replace(/\|/g, '\\|')} |`)
  }
  return lines.join('\n')
}
