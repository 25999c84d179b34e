import { describe, expect, it } from 'vitest';
import { etcdArgs } from './etcd.ts';

describe('etcdArgs', () => {
  it('runs a single loopback member without fsync and with a small quota', () => {
    const args = etcdArgs({ dataDir: '/d/etcd-data', clientPort: 2379, peerPort: 2380 });
    expect(args).toEqual(
      expect.arrayContaining([
        '--data-dir=/d/etcd-data',
        '--listen-client-urls=http://127.0.0.1:2379',
        '--advertise-client-urls=http://127.0.0.1:2379',
        '--listen-peer-urls=http://127.0.0.1:2380',
        '--initial-cluster=strait=http://127.0.0.1:2380',
        '--unsafe-no-fsync',
        `--quota-backend-bytes=${256 * 1024 * 1024}`,
      ]),
    );
    expect(args.some((a) => a.includes('0.0.0.0'))).toBe(false);
  });

  it('takes a custom quota', () => {
    expect(etcdArgs({ dataDir: '/d', clientPort: 1, peerPort: 2, quotaBackendBytes: 1024 })).toContain('--quota-backend-bytes=1024');
  });
});
