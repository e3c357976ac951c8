/**
 * Node configuration: one typed schema (schema.ts) that gives every option
 * its type, default, flag, environment variable and text; value parsers
 * (parsers.ts); the layered loader (load.ts: defaults, bootstrap.json, the
 * config file, environment, flags); `--help` and the README table (docs.ts).
 *
 * Imports: data-dir/ (where the optional config files live), install/ and
 * rollout/ (their settings' parsers: `packages`, `maintenance`), util/, errors.
 */
export { SCHEMA, LOG_LEVELS, DEFAULT_PORT, defaults, specFor } from './schema.js'
export type { NodeConfig, OptionKey, OptionSpec, LogLevel } from './schema.js'
export { loadConfig, resolveDataDir } from './load.js'
export type { ConfigSources, LoadedConfig } from './load.js'
export { optionsHelp, optionsMarkdown } from './docs.js'
