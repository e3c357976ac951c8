/**
 * Config loading: defaults < bootstrap.json < node config file < environment
 * < flags, each layer validated by the schema with the field named as the
 * operator wrote it (a file key, an environment variable or a flag).
 */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { dataPaths } from '../data-dir/index.js'
import { ConfigError } from '../errors.js'
import { SCHEMA, defaults } from './schema.js'
import type { NodeConfig, OptionKey, OptionSpec } from './schema.js'

/** What the operator gave: raw flag values (already split by the CLI), the environment, an explicit config file. */
export interface ConfigSources {
  flags: Partial<Record<OptionKey, unknown>>
  env: Record<string, string | undefined>
  configFile?: string
}

export interface LoadedConfig {
  config: NodeConfig
  /** which layer each option came from, for status and reload messages */
  origin: Record<OptionKey, string>
  configFile: string | null
  bootstrapFile: string | null
}

interface Layer {
  name: string
  values: Record<string, unknown>
  field: (spec: OptionSpec) => string
}

const MAX_CONFIG_BYTES = 1024 * 1024

function readJsonObject (path: string, what: string): Record<string, unknown> {
  let raw: string
  try {
    raw = readFileSync(path, 'utf8')
  } catch (err: any) {
    const why = err.code === 'ENOENT' ? 'file not found' : `cannot read it (${err.code ?? err.message})`
    throw new ConfigError(what, `${path}: ${why}; check the path`)
  }
  if (raw.length > MAX_CONFIG_BYTES) {
    throw new ConfigError(what, `${path}: larger than ${MAX_CONFIG_BYTES} bytes; this is not a config file`)
  }
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch (err) {
    throw new ConfigError(what, `${path}: not valid JSON (${(err as Error).message}); fix the file`)
  }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(what, `${path}: expected a JSON object at the top level`)
  }
  return value as Record<string, unknown>
}

function checkKeys (path: string, values: Record<string, unknown>, allowed: OptionSpec[], hint: string): void {
  for (const key of Object.keys(values)) {
    if (key === '$comment') continue
    if (!allowed.some(s => s.key === key)) {
      const known = allowed.map(s => s.key).join(', ')
      throw new ConfigError(`${path}: ${key}`, `unknown key; ${hint} (known keys: ${known})`)
    }
  }
}

function envLayer (env: ConfigSources['env']): Layer {
  const values: Record<string, unknown> = {}
  for (const spec of SCHEMA) {
    const v = env[spec.env]
    if (v != null && v !== '') values[spec.key] = v
  }
  return { name: 'environment', values, field: s => s.env }
}

/** The data dir is settled first, from flags, environment or default: every other file is found through it. */
export function resolveDataDir (sources: ConfigSources): string {
  const spec = SCHEMA.find(s => s.key === 'dataDir') as OptionSpec<'dataDir'>
  const flag = sources.flags.dataDir
  if (flag != null) return resolve(spec.parse(flag, `--${spec.flag}`))
  const env = sources.env[spec.env]
  if (env != null && env !== '') return resolve(spec.parse(env, spec.env))
  return spec.default
}

export function loadConfig (sources: ConfigSources): LoadedConfig {
  const dataDir = resolveDataDir(sources)
  const layers: Layer[] = []

  let configFile: string | null = null
  if (sources.configFile != null) {
    configFile = resolve(sources.configFile)
  } else if (existsSync(dataPaths(dataDir).config)) {
    configFile = dataPaths(dataDir).config
  }
  let fileLayer: Layer | undefined
  if (configFile != null) {
    const values = readJsonObject(configFile, '--config')
    if ('dataDir' in values) {
      throw new ConfigError(`${configFile}: dataDir`, 'the data dir cannot be set in the config file (the file may live in it); use --data-dir or UMESH_DATA_DIR')
    }
    checkKeys(configFile, values, SCHEMA.filter(s => s.inFile), 'remove it or check its spelling')
    const path = configFile
    fileLayer = { name: `config file ${path}`, values, field: s => `${path}: ${s.key}` }
  }
  const env = envLayer(sources.env)
  const flags: Layer = { name: 'flags', values: sources.flags, field: s => `--${s.flag}` }

  // bootstrap.json is the lowest layer, but where it lives may be set by any of the others
  const bootstrapSpec = SCHEMA.find(s => s.key === 'bootstrapFile') as OptionSpec<'bootstrapFile'>
  let bootstrapFile: string | null = null
  for (const layer of [fileLayer, env, flags]) {
    const v = layer?.values.bootstrapFile
    if (v != null) bootstrapFile = resolve(bootstrapSpec.parse(v, layer!.field(bootstrapSpec)) as string)
  }
  if (bootstrapFile == null && existsSync(dataPaths(dataDir).bootstrap)) {
    bootstrapFile = dataPaths(dataDir).bootstrap
  }
  if (bootstrapFile != null) {
    const values = readJsonObject(bootstrapFile, '--bootstrap')
    checkKeys(bootstrapFile, values, SCHEMA.filter(s => s.inBootstrapFile === true), 'a bootstrap file holds only the network name and the bootstrap list')
    const path = bootstrapFile
    layers.push({ name: `bootstrap file ${path}`, values, field: s => `${path}: ${s.key}` })
  }
  if (fileLayer != null) layers.push(fileLayer)
  layers.push(env, flags)

  const config = defaults()
  const origin = Object.fromEntries(SCHEMA.map(s => [s.key, 'default'])) as Record<OptionKey, string>
  for (const layer of layers) {
    for (const spec of SCHEMA) {
      const raw = layer.values[spec.key]
      if (raw === undefined) continue
      ;(config as any)[spec.key] = spec.parse(raw, layer.field(spec))
      origin[spec.key] = layer.name
    }
  }
  config.dataDir = dataDir
  config.bootstrapFile = bootstrapFile
  return { config, origin, configFile, bootstrapFile }
}
