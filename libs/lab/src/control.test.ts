import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlError, controlRequest, controlSocket, parseServiceTarget, startControlServer, type ControlServer, type LabControlHandler } from './control.ts';
import { labControl } from './control-client.ts';
import { writeState, type LabState } from './state.ts';
import { DEFAULT_LAB_OPTIONS } from './plan.ts';

describe('parseServiceTarget', () => {
  it('takes cluster, service and an optional node', () => {
    expect(parseServiceTarget({ cluster: 'cluster-1', service: 'route-agent', node: 'cluster-1-w1' })).toEqual({ cluster: 'cluster-1', service: 'route-agent', node: 'cluster-1-w1' });
    expect(parseServiceTarget({ cluster: 'cluster-1', service: 'broker-sync' })).toEqual({ cluster: 'cluster-1', service: 'broker-sync' });
  });

  it.each([
    [[], /JSON object/],
    [{ service: 'x' }, /"cluster" must be a name/],
    [{ cluster: 'c', service: 'Bad Name' }, /"service" must be a name/],
    [{ cluster: 'c', service: 's', node: 3 }, /"node" must be a name/],
    [{ cluster: 'c', service: 's', extra: 1 }, /unknown field "extra"/],
  ])('refuses %j', (body, message) => {
    expect(() => parseServiceTarget(body)).toThrow(message);
  });
});

describe('control server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strait-lab-control-'));
  const socket = controlSocket(dir);
  const calls: string[] = [];
  let server: ControlServer;
  let release: (() => void) | undefined;
  const handler: LabControlHandler = {
    stopNats: async () => {
      calls.push('stopNats:begin');
      // Held until released: a second operation must wait for this one.
      await new Promise<void>((r) => (release = r));
      calls.push('stopNats:end');
      return { ms: 5 };
    },
    startNats: async () => {
      calls.push('startNats');
      return { ms: 7, pid: 42 };
    },
    stopBrokerApiServer: async () => {
      throw new ControlError(409, 'the lab is starting, not ready');
    },
    startBrokerApiServer: async () => {
      throw new Error('kube-apiserver did not become ready');
    },
    restartService: async (t) => ({ name: `${t.cluster}/${t.service}`, oldPid: 1, newPid: 2, exitedMs: 3, readyMs: 4 }),
  };

  beforeAll(async () => {
    // A stale socket file from a previous owner process is replaced.
    writeFileSync(socket, '');
    server = await startControlServer(socket, handler);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on a socket only its owner can use', () => {
    const st = statSync(socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('runs an operation and answers with its result', async () => {
    expect(await controlRequest(socket, '/v1/nats/start')).toEqual({ ms: 7, pid: 42 });
    expect(await controlRequest(socket, '/v1/services/restart', { cluster: 'cluster-2', service: 'broker-sync' })).toEqual({
      name: 'cluster-2/broker-sync',
      oldPid: 1,
      newPid: 2,
      exitedMs: 3,
      readyMs: 4,
    });
  });

  it('runs one operation at a time, in arrival order', async () => {
    calls.length = 0;
    const first = controlRequest(socket, '/v1/nats/stop');
    await expect.poll(() => calls).toEqual(['stopNats:begin']);
    const second = controlRequest(socket, '/v1/nats/start');
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toEqual(['stopNats:begin']);
    release!();
    await Promise.all([first, second]);
    expect(calls).toEqual(['stopNats:begin', 'stopNats:end', 'startNats']);
  });

  it('answers a refused or failed operation with its status and message, and keeps serving', async () => {
    await expect(controlRequest(socket, '/v1/broker-apiserver/stop')).rejects.toMatchObject({ status: 409, message: 'the lab is starting, not ready' });
    await expect(controlRequest(socket, '/v1/broker-apiserver/start')).rejects.toMatchObject({ status: 500, message: 'kube-apiserver did not become ready' });
    await expect(controlRequest(socket, '/v1/services/restart', { cluster: 'cluster-1' })).rejects.toMatchObject({ status: 400 });
    expect(await controlRequest(socket, '/v1/nats/start')).toMatchObject({ pid: 42 });
  });

  it('refuses unknown paths, other methods and bodies that are not JSON', async () => {
    const raw = (path: string, method: string, body = '') =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request({ socketPath: socket, path, method }, (res) => {
          let text = '';
          res.on('data', (c) => (text += String(c)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    expect(await raw('/v1/nope', 'POST')).toMatchObject({ status: 404, text: expect.stringContaining('operations: /v1/nats/stop') });
    expect((await raw('/v1/nats/stop', 'GET')).status).toBe(405);
    expect(await raw('/v1/services/restart', 'POST', '{not json')).toMatchObject({ status: 400, text: expect.stringContaining('not JSON') });
    expect((await raw('/v1/services/restart', 'POST', 'x'.repeat(10_000))).status).toBe(413);
  });
});

describe('labControl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strait-lab-control-client-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const state = (pid: number, phase: LabState['phase']): LabState => ({
    version: 1,
    daemonPid: pid,
    startedAt: new Date().toISOString(),
    phase,
    dir,
    options: DEFAULT_LAB_OPTIONS,
    nodes: [],
    pods: [],
    controlPlanePids: [],
    clusters: [],
  });

  it('says how to start a lab when none runs', async () => {
    await expect(labControl(join(dir, 'none')).stopNats()).rejects.toThrow(/no lab is running .*npm run lab/);
  });

  it('says when the lab is not ready, or has no control socket', async () => {
    mkdirSync(join(dir, 'lab'));
    writeState(join(dir, 'lab', 'state.json'), state(process.pid, 'starting'));
    await expect(labControl(join(dir, 'lab')).stopNats()).rejects.toThrow(/the lab is starting, not ready/);
    writeState(join(dir, 'lab', 'state.json'), state(process.pid, 'ready'));
    await expect(labControl(join(dir, 'lab')).restartService({ cluster: 'c', service: 's' })).rejects.toThrow(/has no control socket/);
  });

  it('carries the server refusal as a LabError', async () => {
    const server = await startControlServer(controlSocket(join(dir, 'lab')), {
      stopNats: async () => ({ ms: 1 }),
      startNats: async () => ({ ms: 1 }),
      stopBrokerApiServer: async () => ({ ms: 1 }),
      startBrokerApiServer: async () => ({ ms: 1 }),
      restartService: async () => {
        throw new ControlError(404, 'no route-agent on x in cluster-1');
      },
    });
    try {
      expect(await labControl(join(dir, 'lab')).stopNats()).toEqual({ ms: 1 });
      await expect(labControl(join(dir, 'lab')).restartService({ cluster: 'cluster-1', service: 'route-agent', node: 'x' })).rejects.toThrow(
        '/v1/services/restart: no route-agent on x in cluster-1',
      );
    } finally {
      await server.close();
    }
  });
});
