/**
 * Printing for the follow benchmark: figures to stdout, progress to stderr
 * (so the figures can be piped on their own).
 */

export function progress (text: string): void {
  process.stderr.write(`# ${text}\n`)
}

export function out (text = ''): void {
  process.stdout.write(text + '\n')
}
