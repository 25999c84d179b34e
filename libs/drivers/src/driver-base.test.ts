import { describe, expect, it } from 'vitest';
import type { ResolvedContext } from './context.ts';
import { CableDriverBase, type ConnectItem, type ConnectOutcome, type PeerRecord } from './driver-base.ts';
import { DriverConfigError, type ConnectionStatus, type PeerSpec } from './types.ts';

/** A driver whose "kernel" is a list of batches: each doConnectMany is one write of all its peers. */
class BatchingDriver extends CableDriverBase<PeerRecord, { spec: PeerSpec }> {
  readonly backend = 'wireguard' as const;
  readonly writes: string[][] = [];

  constructor() {
    super({} as ResolvedContext);
  }

  protected prepare(spec: PeerSpec): { spec: PeerSpec } {
    if (!spec.clusterId.startsWith('peer-')) throw new DriverConfigError('wireguard', 'clusterId', `${spec.clusterId} is not a peer`);
    return { spec };
  }
  protected doInit(): Promise<void> {
    return Promise.resolve();
  }
  protected async doConnect(p: { spec: PeerSpec }): Promise<ConnectionStatus> {
    return (await this.doConnectMany([{ spec: p.spec, prepared: p }]))[0] as never;
  }
  protected override async doConnectMany(items: readonly ConnectItem<{ spec: PeerSpec }>[]): Promise<ConnectOutcome[]> {
    // One "command" per batch, taking a little while (as a real one would).
    await new Promise((r) => setTimeout(r, 5));
    this.writes.push(items.map((i) => `${i.spec.clusterId}@${i.spec.endpoint.ip}`));
    return items.map(({ spec }) => {
      this.peers.set(spec.clusterId, { norm: { clusterId: spec.clusterId } as PeerRecord['norm'], connectedAt: Date.now(), prober: undefined });
      return { status: { clusterId: spec.clusterId, backend: 'wireguard', state: 'Connecting', message: '', interface: 'x', endpoint: spec.endpoint.ip, rxBytes: 0, txBytes: 0, lastHandshake: undefined, rtt: undefined } };
    });
  }
  protected doDisconnect(): Promise<void> {
    return Promise.resolve();
  }
  protected doStatuses(): Promise<ConnectionStatus[]> {
    return Promise.resolve([]);
  }
  protected doCleanup(): Promise<void> {
    return Promise.resolve();
  }
}

const spec = (i: number, ip = '198.18.0.1', id = `peer-${i}`): PeerSpec =>
  ({ clusterId: id, backend: 'wireguard', endpoint: { ip, port: 51820 }, remoteSubnets: [`10.64.${i}.0/24`], backendConfig: { publicKey: 'k' } }) as unknown as PeerSpec;

describe('CableDriverBase: connects coalesce into batches', () => {
  it('100 connects asked for at once are written in one batch, each caller gets its status', async () => {
    const d = new BatchingDriver();
    const statuses = await Promise.all(Array.from({ length: 100 }, (_, i) => d.connect(spec(i))));
    expect(statuses.map((s) => s.clusterId)).toEqual(Array.from({ length: 100 }, (_, i) => `peer-${i}`));
    expect(d.writes.map((w) => w.length)).toEqual([100]);
    expect(d.batches).toBe(1);
  });

  it('connects asked for while a batch runs form the next batch', async () => {
    const d = new BatchingDriver();
    const first = d.connect(spec(0));
    await new Promise((r) => setTimeout(r, 1));
    const rest = Array.from({ length: 10 }, (_, i) => d.connect(spec(i + 1)));
    await Promise.all([first, ...rest]);
    expect(d.writes.map((w) => w.length)).toEqual([1, 10]);
  });

  it('a peer asked for twice goes once per batch, in the order asked (the later spec wins)', async () => {
    const d = new BatchingDriver();
    await Promise.all([d.connect(spec(1, '198.18.0.1')), d.connect(spec(2)), d.connect(spec(1, '198.18.0.9'))]);
    expect(d.writes).toEqual([['peer-1@198.18.0.1', 'peer-2@198.18.0.1'], ['peer-1@198.18.0.9']]);
  });

  it('an invalid spec is rejected on its own; the rest of the batch is written', async () => {
    const d = new BatchingDriver();
    const results = await Promise.allSettled([d.connect(spec(1)), d.connect(spec(2, '198.18.0.1', 'bad')), d.connect(spec(3))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/bad is not a peer/);
    expect(d.writes).toEqual([['peer-1@198.18.0.1', 'peer-3@198.18.0.1']]);
  });
});
