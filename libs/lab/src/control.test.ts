import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ControlError,
  controlRequest,
  controlSocket,
  parseServiceTarget,
  pickReplica,
  replicaRefusal,
  startControlServer,
  type ControlServer,
  type LabControlHandler,
  type ReplicaInfo,
} from './control.ts';
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

describe('pickReplica and replicaRefusal', () => {
  const replica = (service: string, node: string, extra: Partial<ReplicaInfo> = {}): ReplicaInfo => ({
    name: `cluster-1/${service}@${node}`,
    cluster: 'cluster-1',
    service,
    node,
    running: true,
    held: false,
    ...extra,
  });
  const replicas = [replica('route-agent', 'cluster-1-g1'), replica('route-agent', 'cluster-1-w1'), replica('broker-sync', 'cluster-1-w1')];

  it('finds the one replica a target names', () => {
    expect(pickReplica(replicas, { cluster: 'cluster-1', service: 'broker-sync' })).toBe(replicas[2]);
    expect(pickReplica(replicas, { cluster: 'cluster-1', service: 'route-agent', node: 'cluster-1-w1' })).toBe(replicas[1]);
  });

  it('refuses an unknown replica (404, naming what runs there) and an ambiguous one (400)', () => {
    expect(() => pickReplica(replicas, { cluster: 'cluster-1', service: 'nope' })).toThrow(
      expect.objectContaining({ status: 404, message: 'no nope in cluster-1 (there: route-agent@cluster-1-g1, route-agent@cluster-1-w1, broker-sync@cluster-1-w1)' }),
    );
    expect(() => pickReplica(replicas, { cluster: 'cluster-9', service: 'broker-sync' })).toThrow(expect.objectContaining({ status: 404, message: 'no broker-sync in cluster-9 (there: nothing)' }));
    expect(() => pickReplica(replicas, { cluster: 'cluster-1', service: 'route-agent', node: 'x' })).toThrow(expect.objectContaining({ status: 404, message: expect.stringMatching(/^no route-agent on x in cluster-1/) }));
    expect(() => pickReplica(replicas, { cluster: 'cluster-1', service: 'route-agent' })).toThrow(expect.objectContaining({ status: 400, message: 'route-agent runs on 2 nodes of cluster-1: name one (cluster-1-g1, cluster-1-w1)' }));
  });

  it('holds and restarts only a running replica that is not held; releases only a held one', () => {
    const running = replica('broker-sync', 'cluster-1-w1');
    const held = replica('broker-sync', 'cluster-1-w1', { running: false, held: true });
    const restarting = replica('broker-sync', 'cluster-1-w1', { running: false });
    expect(replicaRefusal(running, 'hold')).toBeUndefined();
    expect(replicaRefusal(running, 'restart')).toBeUndefined();
    expect(replicaRefusal(held, 'release')).toBeUndefined();
    expect(replicaRefusal(held, 'hold')).toMatchObject({ status: 409, message: 'cluster-1/broker-sync@cluster-1-w1 is already held' });
    expect(replicaRefusal(held, 'restart')).toMatchObject({ status: 409, message: 'cluster-1/broker-sync@cluster-1-w1 is held: release it instead' });
    expect(replicaRefusal(running, 'release')).toMatchObject({ status: 409, message: 'cluster-1/broker-sync@cluster-1-w1 is not held (hold it first)' });
    expect(replicaRefusal(restarting, 'release')).toMatchObject({ status: 409, message: /is not held/ });
    expect(replicaRefusal(restarting, 'hold')).toMatchObject({ status: 409, message: 'cluster-1/broker-sync@cluster-1-w1 is not running (the lab is restarting it)' });
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
    holdService: async (t) => {
      calls.push(`hold ${t.cluster}/${t.service}`);
      return { name: `${t.cluster}/${t.service}`, pid: 5, exitedMs: 6 };
    },
    releaseService: async (t) => {
      throw new ControlError(409, `${t.cluster}/${t.service} is not held (hold it first)`);
    },
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

  it('holds and releases a replica named in the body; refuses a release the handler refuses, and a bad body', async () => {
    calls.length = 0;
    expect(await controlRequest(socket, '/v1/services/hold', { cluster: 'cluster-2', service: 'broker-sync' })).toEqual({ name: 'cluster-2/broker-sync', pid: 5, exitedMs: 6 });
    expect(calls).toEqual(['hold cluster-2/broker-sync']);
    await expect(controlRequest(socket, '/v1/services/release', { cluster: 'cluster-2', service: 'broker-sync' })).rejects.toMatchObject({
      status: 409,
      message: 'cluster-2/broker-sync is not held (hold it first)',
    });
    await expect(controlRequest(socket, '/v1/services/hold', { cluster: 'cluster-2' })).rejects.toMatchObject({ status: 400, message: /"service" must be a name/ });
    await expect(controlRequest(socket, '/v1/services/release', { cluster: 'cluster-2', service: 'broker-sync', pid: 3 })).rejects.toMatchObject({ status: 400, message: /unknown field "pid"/ });
    expect(calls).toEqual(['hold cluster-2/broker-sync']);
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
      holdService: async (t) => ({ name: `${t.cluster}/${t.service}`, pid: 9, exitedMs: 1 }),
      releaseService: async () => {
        throw new ControlError(409, 'cluster-1/broker-sync is not held (hold it first)');
      },
    });
    try {
      expect(await labControl(join(dir, 'lab')).stopNats()).toEqual({ ms: 1 });
      await expect(labControl(join(dir, 'lab')).restartService({ cluster: 'cluster-1', service: 'route-agent', node: 'x' })).rejects.toThrow(
        '/v1/services/restart: no route-agent on x in cluster-1',
      );
      expect(await labControl(join(dir, 'lab')).holdService({ cluster: 'cluster-1', service: 'broker-sync' })).toEqual({ name: 'cluster-1/broker-sync', pid: 9, exitedMs: 1 });
      await expect(labControl(join(dir, 'lab')).releaseService({ cluster: 'cluster-1', service: 'broker-sync' })).rejects.toThrow('/v1/services/release: cluster-1/broker-sync is not held (hold it first)');
    } finally {
      await server.close();
    }
  });
});
