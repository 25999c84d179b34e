export { UsageError, runCli } from './cli.ts';
export type { CliInfo, CliIO } from './cli.ts';
