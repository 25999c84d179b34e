import { join, resolve } from 'node:path';

/** The repository root (libs/lab/src → ../../..). */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/** Where a lab keeps its state, logs and secrets: $STRAIT_LAB_DIR, else `<repo>/.lab`. */
export function labDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['STRAIT_LAB_DIR'] ? resolve(env['STRAIT_LAB_DIR']) : join(REPO_ROOT, '.lab');
}

export interface LabFiles {
  dir: string;
  state: string;
  progress: string;
  daemonLog: string;
  logs: string;
  secrets: string;
}

export function labFiles(dir: string): LabFiles {
  return {
    dir,
    state: join(dir, 'state.json'),
    progress: join(dir, 'progress.log'),
    daemonLog: join(dir, 'daemon.log'),
    logs: join(dir, 'logs'),
    secrets: join(dir, 'secrets'),
  };
}

/** Node 24 from the repository (npm scripts put it first on PATH; the system Node may be older). */
export function nodeBinary(): string {
  return process.execPath;
}
