import { existsSync } from 'node:fs';
import { LabError } from './client.ts';
import { ControlError, controlRequest, controlSocket, type ControlPath, type LabControlHandler } from './control.ts';
import { labFiles } from './paths.ts';
import { pidAlive, readState } from './state.ts';

/** The running lab's control operations (see LabControlHandler in control.ts), for scenarios and tests. */
export type LabControl = LabControlHandler;

/** The control operations of the lab in `dir`; each call fails with a LabError that says why when no ready lab runs there. */
export function labControl(dir: string, opts: { timeoutMs?: number } = {}): LabControl {
  const call = async <T>(path: ControlPath, body: unknown = {}): Promise<T> => {
    const state = readState(labFiles(dir).state);
    if (!state || !pidAlive(state.daemonPid)) throw new LabError(`no lab is running (nothing in ${dir}); start one with: npm run lab`);
    if (state.phase !== 'ready') throw new LabError(`the lab is ${state.phase}, not ready; see straitctl lab status`);
    const socket = controlSocket(dir);
    if (!existsSync(socket)) throw new LabError(`the lab in ${dir} has no control socket (${socket}); it was started by an older straitctl: restart it with lab down, lab up`);
    try {
      return await controlRequest<T>(socket, path, body, opts.timeoutMs);
    } catch (err) {
      if (err instanceof ControlError) throw new LabError(`${path}: ${err.message}`);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ECONNREFUSED' || code === 'ENOENT') throw new LabError(`the lab's owner process does not answer on ${socket} (${code}); see straitctl lab status`);
      throw err;
    }
  };
  return {
    stopNats: () => call('/v1/nats/stop'),
    startNats: () => call('/v1/nats/start'),
    stopBrokerApiServer: () => call('/v1/broker-apiserver/stop'),
    startBrokerApiServer: () => call('/v1/broker-apiserver/start'),
    restartService: (target) => call('/v1/services/restart', target),
    holdService: (target) => call('/v1/services/hold', target),
    releaseService: (target) => call('/v1/services/release', target),
  };
}
