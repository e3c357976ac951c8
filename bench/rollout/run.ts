/**
 * One timed rollout, as the report needs it: the coordinator's wave events,
 * each wave's installs, and what made the run stall (such a run is left out
 * of the medians).
 */
import type { Variant } from './options.js'

export interface WaveTiming {
  name: string
  label: string
  nodes: number
  /** wall ms of the coordinator's wave-opened event (wave 0: "started"), and of its gate-passed event */
  openedAt?: number
  gateAt?: number
  byHand?: boolean
  /** install history of this wave's nodes: earliest start, latest end (wall ms) */
  firstStart?: number
  lastEnd?: number
  /** installs run by this wave's nodes (ms), and when each ended (wall ms) */
  installMs: number[]
  ends: number[]
}

export interface Run {
  round: number
  variant: Variant
  version: string
  id?: string
  publishMs?: number
  /** release add spawned to every node holding the version */
  heldMs?: number
  cliMs?: number
  t0: number
  /** wall ms of the poll that saw every node on the version; of the completed event */
  allAt?: number
  completedAt?: number
  waves: WaveTiming[]
  /** nodes per wave, as predicted from the document with waveOf */
  sizes: number[]
  /** the nodes the coordinator listed in count waves (canary:1) */
  chosen?: string
  stalls: string[]
  /** what the coordinator said when it passed the gate of a wave predicted to have no node */
  emptyGates: string[]
  /** nodes whose install of the version started before rollout start (plain autoUpdate) */
  early: string[]
  /** nodes with the governed mark in their install root when the rollout started */
  governed?: number
  error?: string
}

export function clean (r: Run): boolean {
  return r.error == null && r.allAt != null && r.stalls.length === 0 && r.early.length === 0
}
