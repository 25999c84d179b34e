/**
 * Entry point of the lab's owner process, started detached by `straitctl lab up`:
 *   node libs/lab/src/daemon-main.ts --dir DIR --options '{"clusters":2,"driver":"wireguard",...}'
 * SIGTERM/SIGINT stop the lab and remove DIR.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LabDaemon } from './daemon.ts';
import { DEFAULT_LAB_OPTIONS, labOptionProblems, type LabOptions } from './plan.ts';

const { values } = parseArgs({ options: { dir: { type: 'string' }, options: { type: 'string', default: '{}' } }, strict: true });
const options: LabOptions = { ...DEFAULT_LAB_OPTIONS, ...(JSON.parse(values.options) as Partial<LabOptions>) };
const problems = labOptionProblems(options);
if (!values.dir || problems.length > 0) {
  process.stderr.write(`lab daemon: ${values.dir ? problems.join('; ') : '--dir is required'}\n`);
  process.exit(2);
}
const dir = values.dir;
const daemon = new LabDaemon({ dir, ...options });

let exiting = false;
async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  try {
    await daemon.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  }
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
// The owner process outlives the terminal that started it.
process.on('SIGHUP', () => undefined);

try {
  await daemon.up();
} catch (err) {
  daemon.fail(err);
  // Keep the logs for `straitctl lab logs` / inspection; stop every process.
  await daemon.stop();
  process.exit(1);
}
// Hold the lab until a signal arrives.
setInterval(() => undefined, 1 << 30);
