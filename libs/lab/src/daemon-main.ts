/**
 * Entry point of the lab's owner process, started detached by `straitctl lab up`:
 *   node libs/lab/src/daemon-main.ts --dir DIR --options '{"clusters":2,"driver":"wireguard",...}'
 * SIGTERM/SIGINT stop the lab and remove DIR.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LabDaemon } from './daemon.ts';
import { controlSocket, startControlServer, type ControlServer } from './control.ts';
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
let control: ControlServer | undefined;

let exiting = false;
async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  try {
    await control?.close();
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
  // The control socket (control.ts: stop/start NATS and the Broker's API server, restart a service),
  // listening before the lab is ready so that a client sees it as soon as the lab is; it refuses until then.
  control = await startControlServer(controlSocket(dir), daemon.controlHandler(), (m) => daemon.progress(m));
  await daemon.up();
} catch (err) {
  daemon.fail(err);
  await control?.close();
  // Keep the logs for `straitctl lab logs` / inspection; stop every process.
  await daemon.stop();
  process.exit(1);
}
// Hold the lab until a signal arrives.
setInterval(() => undefined, 1 << 30);
