/** The scale benchmark's output: figures on stdout, progress on stderr. */
export function out (line = ''): void {
  process.stdout.write(line + '\n')
}

export function progress (line: string): void {
  process.stderr.write(`# ${new Date().toISOString().slice(11, 19)} ${line}\n`)
}
