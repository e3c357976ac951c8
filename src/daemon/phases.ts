/**
 * Runs start-up phases in order and undoes them in reverse. Each phase
 * records its state and duration; the first failure undoes what was done
 * and raises a PhaseError naming the phase and its cause.
 */
import { PhaseError } from '../errors.js'

export type PhaseState = 'pending' | 'running' | 'done' | 'failed' | 'skipped'

export interface PhaseRecord {
  name: string
  state: PhaseState
  durationMs: number
  detail: string
}

export type Undo = () => void | Promise<void>

export interface PhaseResult {
  undo?: Undo
  detail?: string
  /** the phase did not apply; the text says why */
  skipped?: string
}

export interface PhaseDefinition {
  name: string
  run: (signal: AbortSignal) => Promise<PhaseResult | undefined>
}

export class PhaseRunner {
  readonly records: PhaseRecord[]
  private readonly undos: Array<{ name: string, undo: Undo }> = []

  constructor (private readonly definitions: PhaseDefinition[], private readonly onChange: (record: PhaseRecord) => void = () => {}) {
    this.records = definitions.map(d => ({ name: d.name, state: 'pending', durationMs: 0, detail: '' }))
  }

  /** the phase running now, or undefined */
  current (): PhaseRecord | undefined {
    return this.records.find(r => r.state === 'running')
  }

  async start (signal: AbortSignal): Promise<void> {
    for (const [i, def] of this.definitions.entries()) {
      const record = this.records[i]
      const started = performance.now()
      this.update(record, { state: 'running' })
      try {
        signal.throwIfAborted()
        const result = await def.run(signal) ?? {}
        if (result.undo != null) this.undos.push({ name: def.name, undo: result.undo })
        this.update(record, {
          state: result.skipped != null ? 'skipped' : 'done',
          detail: result.skipped ?? result.detail ?? '',
          durationMs: Math.round(performance.now() - started)
        })
      } catch (err) {
        this.update(record, { state: 'failed', detail: (err as Error).message ?? String(err), durationMs: Math.round(performance.now() - started) })
        await this.stop()
        throw new PhaseError(def.name, err)
      }
    }
  }

  /** undoes every completed phase, newest first; returns the errors met on the way */
  async stop (): Promise<Array<{ phase: string, error: unknown }>> {
    const errors: Array<{ phase: string, error: unknown }> = []
    for (let entry = this.undos.pop(); entry != null; entry = this.undos.pop()) {
      try {
        await entry.undo()
      } catch (error) {
        errors.push({ phase: entry.name, error })
      }
    }
    return errors
  }

  private update (record: PhaseRecord, change: Partial<PhaseRecord>): void {
    Object.assign(record, change)
    this.onChange({ ...record })
  }
}
