import { runDaemon } from './daemon-runner.js'
import type { Command } from '../run.js'

export const command: Command = {
  run: async (argv) => await runDaemon('bootstrap', argv)
}
