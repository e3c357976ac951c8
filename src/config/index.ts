/**
 * Node configuration: one typed schema (schema.ts), value parsers
 * (parsers.ts) and the layered loader (load.ts).
 */
export { SCHEMA, LOG_LEVELS, DEFAULT_PORT, defaults, specFor } from './schema.js'
export type { NodeConfig, OptionKey, OptionSpec, LogLevel } from './schema.js'
export { loadConfig, resolveDataDir } from './load.js'
export type { ConfigSources, LoadedConfig } from './load.js'
export { optionsHelp, optionsMarkdown } from './docs.js'
