/**
 * Maintenance windows and blackouts: the config parser, and when installs
 * are allowed, in two time zones, across midnight and across DST changes.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../../src/errors.js'
import { formatInZone, installAllowed, parseMaintenance } from '../../../src/rollout/windows.js'
import type { MaintenanceConfig } from '../../../src/rollout/types.js'

const at = (iso: string): Date => new Date(iso)

// 2026-11-23 is a monday; Berlin is UTC+1 and New York UTC-5 in late November
const BERLIN: MaintenanceConfig = parseMaintenance({ windows: [{ days: ['mon', 'tue'], start: '02:00', end: '04:00', timeZone: 'Europe/Berlin' }] }, 'maintenance')
const NEW_YORK_FRIDAY_NIGHT: MaintenanceConfig = parseMaintenance({ windows: [{ days: ['fri'], start: '22:00', end: '02:00', timeZone: 'America/New_York' }] }, 'maintenance')

describe('maintenance config', () => {
  it('fills defaults, and reads JSON text from a flag', () => {
    assert.deepEqual(parseMaintenance({}, 'maintenance'), { windows: [], blackouts: [] })
    assert.deepEqual(parseMaintenance('{"windows":[{"start":"22:00","end":"24:00"}],"blackouts":[{"from":"2026-12-24T00:00:00+01:00","to":"2026-12-27T00:00Z"}]}', '--maintenance'), {
      windows: [{ days: [], start: '22:00', end: '24:00', timeZone: 'UTC' }],
      blackouts: [{ from: '2026-12-24T00:00:00+01:00', to: '2026-12-27T00:00Z' }]
    })
  })

  const window = (w: Record<string, unknown>): unknown => ({ windows: [{ start: '02:00', end: '04:00', ...w }] })
  const refused: Array<[string, unknown, RegExp]> = [
    ['an unknown key', { window: [] }, /^maintenance\.window: unknown key/],
    ['a window with an unknown key', window({ zone: 'UTC' }), /^maintenance\.windows\[0\]\.zone: unknown key/],
    ['a day name in capitals', window({ days: ['Mon'] }), /^maintenance\.windows\[0\]\.days\[0\]: expected one of sun, mon, tue, wed, thu, fri, sat/],
    ['a day listed twice', window({ days: ['mon', 'tue', 'mon'] }), /^maintenance\.windows\[0\]\.days\[2\]: mon is listed twice/],
    ['days as text', window({ days: 'mon' }), /^maintenance\.windows\[0\]\.days: expected a list/],
    ['a start without a leading zero', window({ start: '2:00' }), /^maintenance\.windows\[0\]\.start: expected a time "HH:MM"/],
    ['a start of 24:00', window({ start: '24:00' }), /^maintenance\.windows\[0\]\.start:/],
    ['an end past 24:00', window({ end: '24:01' }), /^maintenance\.windows\[0\]\.end:/],
    ['a missing end', { windows: [{ start: '02:00' }] }, /^maintenance\.windows\[0\]\.end:/],
    ['a window that ends when it starts', window({ end: '02:00' }), /^maintenance\.windows\[0\]\.end: the window ends when it starts/],
    ['an unknown time zone', window({ timeZone: 'Mars/Olympus_Mons' }), /^maintenance\.windows\[0\]\.timeZone: expected an IANA time zone/],
    ['a window that is not an object', { windows: ['02:00-04:00'] }, /^maintenance\.windows\[0\]: expected an object/],
    ['33 windows', { windows: Array.from({ length: 33 }, () => ({ start: '02:00', end: '04:00' })) }, /^maintenance\.windows: expected a list of at most 32/],
    ['65 blackouts', { blackouts: Array.from({ length: 65 }, () => ({ from: '2026-01-01T00:00Z', to: '2026-01-02T00:00Z' })) }, /^maintenance\.blackouts: expected a list of at most 64/],
    ['a blackout without an offset', { blackouts: [{ from: '2026-12-24T00:00:00', to: '2026-12-27T00:00:00Z' }] }, /^maintenance\.blackouts\[0\]\.from: expected an ISO date and time with its offset/],
    ['a blackout given as a date', { blackouts: [{ from: '2026-12-24T00:00:00Z', to: '2026-12-27' }] }, /^maintenance\.blackouts\[0\]\.to:/],
    ['a blackout that ends before it begins', { blackouts: [{ from: '2026-12-27T00:00:00Z', to: '2026-12-24T00:00:00Z' }] }, /^maintenance\.blackouts\[0\]\.to: the blackout ends/],
    ['a blackout with an unknown key', { blackouts: [{ from: '2026-12-24T00:00:00Z', to: '2026-12-27T00:00:00Z', why: 'xmas' }] }, /^maintenance\.blackouts\[0\]\.why: unknown key/],
    ['a list', [], /^maintenance: expected an object/],
    ['text that is not JSON', '{windows:', /^maintenance: expected a JSON object, found text that is not JSON/]
  ]
  for (const [what, value, message] of refused) {
    it(`refuses ${what}, naming the field`, () => {
      assert.throws(() => parseMaintenance(value, 'maintenance'), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err))
        assert.equal(err.exitCode, 2)
        assert.match(err.message, message)
        return true
      })
    })
  }
})

describe('installAllowed', () => {
  it('allows any time without windows', () => {
    const r = installAllowed({ windows: [], blackouts: [] }, at('2026-11-24T13:00:00Z'), false)
    assert.equal(r.allowed, true)
    assert.equal(r.nextAt, undefined)
  })

  it('follows a window on listed days in its own time zone', () => {
    // tuesday 02:30 in Berlin
    const inside = installAllowed(BERLIN, at('2026-11-24T01:30:00Z'), false)
    assert.equal(inside.allowed, true)
    assert.match(inside.reason, /inside the maintenance window mon,tue 02:00-04:00 Europe\/Berlin/)
    assert.equal(installAllowed(BERLIN, at('2026-11-23T01:00:00Z'), false).allowed, true, 'monday 02:00 opens the window')
    // 02:30 UTC on a tuesday is 03:30 in Berlin: inside; 03:00 UTC is 04:00 in Berlin: the window has closed
    assert.equal(installAllowed(BERLIN, at('2026-11-24T02:30:00Z'), false).allowed, true)
    const closed = installAllowed(BERLIN, at('2026-11-24T03:00:00Z'), false)
    assert.equal(closed.allowed, false)
    // the next is monday a week on
    assert.equal(closed.nextAt?.toISOString(), '2026-11-30T01:00:00.000Z')
    assert.equal(closed.reason, 'outside the maintenance windows; next window opens 2026-11-30T02:00:00+01:00')
    // wednesday at 02:30 in Berlin: not a listed day
    assert.equal(installAllowed(BERLIN, at('2026-11-25T01:30:00Z'), false).allowed, false)
  })

  it('names the next window when outside, later the same week', () => {
    // monday 04:30 in Berlin
    const r = installAllowed(BERLIN, at('2026-11-23T03:30:00Z'), false)
    assert.equal(r.allowed, false)
    assert.equal(r.nextAt?.toISOString(), '2026-11-24T01:00:00.000Z')
    assert.equal(r.reason, 'outside the maintenance windows; next window opens 2026-11-24T02:00:00+01:00')
  })

  it('runs a window past midnight, on the day it starts', () => {
    const cfg = NEW_YORK_FRIDAY_NIGHT
    // friday 27 november, 23:00 in New York
    assert.equal(installAllowed(cfg, at('2026-11-28T04:00:00Z'), false).allowed, true)
    // saturday 01:00, still friday's window
    assert.equal(installAllowed(cfg, at('2026-11-28T06:00:00Z'), false).allowed, true)
    // saturday 02:00: closed
    const closed = installAllowed(cfg, at('2026-11-28T07:00:00Z'), false)
    assert.equal(closed.allowed, false)
    assert.equal(closed.nextAt?.toISOString(), '2026-12-05T03:00:00.000Z')
    assert.equal(closed.reason, 'outside the maintenance windows; next window opens 2026-12-04T22:00:00-05:00')
    // friday 01:00 is thursday night: thursday is not listed; the window opens that evening
    const fridayMorning = installAllowed(cfg, at('2026-11-27T06:00:00Z'), false)
    assert.equal(fridayMorning.allowed, false)
    assert.equal(fridayMorning.nextAt?.toISOString(), '2026-11-28T03:00:00.000Z')
    // friday 21:59
    assert.equal(installAllowed(cfg, at('2026-11-28T02:59:00Z'), false).allowed, false)
    // saturday 23:00
    assert.equal(installAllowed(cfg, at('2026-11-29T04:00:00Z'), false).allowed, false)
  })

  it('takes the earliest of windows in two time zones', () => {
    const both: MaintenanceConfig = { windows: [...BERLIN.windows, ...NEW_YORK_FRIDAY_NIGHT.windows], blackouts: [] }
    // wednesday 25 november, noon UTC: New York's friday night comes before Berlin's monday
    const r = installAllowed(both, at('2026-11-25T12:00:00Z'), false)
    assert.equal(r.nextAt?.toISOString(), '2026-11-28T03:00:00.000Z')
    assert.match(r.reason, /2026-11-27T22:00:00-05:00$/)
    assert.equal(installAllowed(both, at('2026-11-28T04:00:00Z'), false).allowed, true)
    assert.equal(installAllowed(both, at('2026-11-24T01:30:00Z'), false).allowed, true)
  })

  it('lets a critical release past the windows but not past a blackout', () => {
    const outside = installAllowed(BERLIN, at('2026-11-25T12:00:00Z'), true)
    assert.equal(outside.allowed, true)
    assert.match(outside.reason, /critical/)
    const cfg: MaintenanceConfig = { ...BERLIN, blackouts: [{ from: '2026-11-23T00:00:00Z', to: '2026-11-25T00:00:00Z' }] }
    // tuesday 02:30 in Berlin is inside the window, but also inside the blackout
    for (const critical of [false, true]) {
      const r = installAllowed(cfg, at('2026-11-24T01:30:00Z'), critical)
      assert.equal(r.allowed, false)
      assert.match(r.reason, /^inside the blackout from 2026-11-23T00:00:00Z to 2026-11-25T00:00:00Z/)
      // after the blackout: the next window for a normal release, the blackout's end for a critical one
      assert.equal(r.nextAt?.toISOString(), critical ? '2026-11-25T00:00:00.000Z' : '2026-11-30T01:00:00.000Z')
    }
    assert.match(installAllowed(cfg, at('2026-11-24T01:30:00Z'), true).reason, /bypasses maintenance windows, not blackouts/)
    // blackouts are half open: allowed again at their end
    assert.equal(installAllowed({ windows: [], blackouts: cfg.blackouts }, at('2026-11-25T00:00:00Z'), false).allowed, true)
    assert.equal(installAllowed({ windows: [], blackouts: cfg.blackouts }, at('2026-11-24T23:59:59Z'), false).nextAt?.toISOString(), '2026-11-25T00:00:00.000Z')
  })

  it('skips a window start that falls in a blackout, and chains blackouts', () => {
    const cfg: MaintenanceConfig = {
      windows: [{ days: [], start: '02:00', end: '03:00', timeZone: 'UTC' }],
      blackouts: [{ from: '2026-11-24T01:00:00Z', to: '2026-11-24T02:30:00Z' }, { from: '2026-11-24T02:30:00Z', to: '2026-11-26T02:10:00Z' }]
    }
    // after the blackouts end, inside the window of the 26th
    const r = installAllowed(cfg, at('2026-11-24T00:00:00Z'), false)
    assert.equal(r.allowed, false)
    assert.equal(r.nextAt?.toISOString(), '2026-11-26T02:10:00.000Z')
  })

  it('opens a window on a day the clocks skip its start when the clocks jump', () => {
    // Berlin skips 02:00-03:00 on sunday 29 march 2026
    const cfg = parseMaintenance({ windows: [{ start: '02:30', end: '04:00', timeZone: 'Europe/Berlin' }] }, 'maintenance')
    const r = installAllowed(cfg, at('2026-03-28T23:30:00Z'), false)
    assert.equal(r.nextAt?.toISOString(), '2026-03-29T01:00:00.000Z')
    assert.equal(r.reason, 'outside the maintenance windows; next window opens 2026-03-29T03:00:00+02:00')
    assert.equal(installAllowed(cfg, at('2026-03-29T01:00:00Z'), false).allowed, true)
    // a window wholly inside the skipped hour does not happen that day
    const skipped = parseMaintenance({ windows: [{ days: ['sun'], start: '02:00', end: '02:30', timeZone: 'Europe/Berlin' }] }, 'maintenance')
    assert.equal(installAllowed(skipped, at('2026-03-28T23:30:00Z'), false).nextAt?.toISOString(), '2026-04-05T00:00:00.000Z')
  })

  it('opens a window at the first of two equal wall clock times when the clocks go back', () => {
    // Berlin runs 02:00-03:00 twice on sunday 25 october 2026
    const cfg = parseMaintenance({ windows: [{ days: ['sun'], start: '02:30', end: '03:00', timeZone: 'Europe/Berlin' }] }, 'maintenance')
    const r = installAllowed(cfg, at('2026-10-24T22:00:00Z'), false)
    assert.equal(r.nextAt?.toISOString(), '2026-10-25T00:30:00.000Z')
    assert.equal(installAllowed(cfg, at('2026-10-25T00:45:00Z'), false).allowed, true)
    assert.equal(installAllowed(cfg, at('2026-10-25T01:45:00Z'), false).allowed, true)
    assert.equal(installAllowed(cfg, at('2026-10-25T02:00:00Z'), false).allowed, false)
  })

  it('formats instants in a zone with its offset', () => {
    assert.equal(formatInZone(Date.parse('2026-11-24T01:00:00Z'), 'Europe/Berlin'), '2026-11-24T02:00:00+01:00')
    assert.equal(formatInZone(Date.parse('2026-07-01T12:00:00Z'), 'America/New_York'), '2026-07-01T08:00:00-04:00')
    assert.equal(formatInZone(Date.parse('2026-07-01T12:00:00Z'), 'Asia/Kolkata'), '2026-07-01T17:30:00+05:30')
    assert.equal(formatInZone(Date.parse('2026-07-01T12:00:00Z'), 'UTC'), '2026-07-01T12:00:00Z')
  })
})
