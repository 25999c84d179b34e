/**
 * Entry point of the lab's owner process, started detached by `straitctl lab up`:
 *   node libs/lab/src/daemon-main.ts --dir DIR --clusters N
 * SIGTERM/SIGINT stop the lab and remove DIR.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LabDaemon } from './daemon.ts';

const { values } = parseArgs({ options: { dir: { type: 'string' }, clusters: { type: 'string', default: '2' } }, strict: true });
if (!values.dir) {
  process.stderr.write('lab daemon: --dir is required\n');
  process.exit(2);
}
const dir = values.dir;
const daemon = new LabDaemon({ dir, clusters: Number(values.clusters) });

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
