import { describe, expect, it } from 'vitest';
import { ConfigError, defineConfig, parseConfig } from './config.ts';
import { clusterOptions, kubeOptions, leaderElectionCheck, leaderElectionOptions, natsCheck, natsOptions, nodeOptions, serviceOptions } from './options.ts';

const spec = defineConfig(
  {
    ...serviceOptions({ probePort: 9101 }),
    ...kubeOptions(),
    ...clusterOptions(),
    ...nodeOptions(),
    ...natsOptions(),
    ...leaderElectionOptions({ leaseName: 'strait-gateway' }),
  },
  { checks: [natsCheck, leaderElectionCheck] },
);

function message(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseConfig(spec, argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
}

describe('shared service options', () => {
  it('have the documented defaults', () => {
    const c = parseConfig(spec, ['--cluster-id=a'], {});
    expect(c.logLevel).toBe('info');
    expect(c.probeAddr).toEqual({ host: '0.0.0.0', port: 9101 });
    expect(c.namespace).toBe('strait-system');
    expect(c.kubeconfig).toBeUndefined();
    expect(c.natsUrl).toEqual([]);
    expect(c.leaseName).toBe('strait-gateway');
    expect([c.leaseDuration, c.renewDeadline, c.retryPeriod]).toEqual([2000, 1500, 250]);
    expect(c.nodeName.length).toBeGreaterThan(0);
  });

  it('node name comes from NODE_NAME (downward API) unless STRAIT_NODE_NAME or the flag says otherwise', () => {
    expect(parseConfig(spec, ['--cluster-id=a'], { NODE_NAME: 'worker-1' }).nodeName).toBe('worker-1');
    expect(parseConfig(spec, ['--cluster-id=a', '--node-name=gw-2'], { NODE_NAME: 'worker-1' }).nodeName).toBe('gw-2');
  });

  it('kubeconfig must exist', () => {
    expect(message(['--cluster-id=a', '--kubeconfig=/nonexistent/kc'])).toBe('--kubeconfig: invalid value "/nonexistent/kc": does not exist');
  });

  it('NATS credentials are checked together', () => {
    const url = '--nats-url=nats://127.0.0.1:4222';
    expect(message(['--cluster-id=a', url, '--nats-user=u'])).toBe('--nats-user needs --nats-password (or --nats-password-file)');
    expect(message(['--cluster-id=a', url, '--nats-password=p'])).toBe('--nats-password needs --nats-user');
    expect(message(['--cluster-id=a', url, '--nats-user=u', '--nats-password=p', '--nats-token=t'])).toBe('--nats-token and --nats-user are mutually exclusive');
    expect(message(['--cluster-id=a', '--nats-token=t'])).toBe('NATS credentials given without --nats-url');
    expect(message(['--cluster-id=a', '--nats-url=http://x'])).toContain('--nats-url: invalid value "http://x": item "http://x" must use nats://');
    const c = parseConfig(spec, ['--cluster-id=a', url, '--nats-user=u', '--nats-password=p'], {});
    expect(c.natsUrl).toEqual(['nats://127.0.0.1:4222']);
  });

  it('leader election timings follow client-go rules', () => {
    expect(message(['--cluster-id=a', '--lease-duration=1s', '--renew-deadline=2s'])).toBe('--renew-deadline (2s) must be shorter than --lease-duration (1s)');
    expect(message(['--cluster-id=a', '--retry-period=1400ms'])).toBe('--retry-period (1.4s) × 1.2 must be shorter than --renew-deadline (1.5s)');
    expect(message(['--cluster-id=a', '--lease-duration=15s', '--renew-deadline=10s', '--retry-period=2s'])).toBe('');
  });

  it('cluster id must be a DNS-1123 label', () => {
    expect(message(['--cluster-id=Cluster_A'])).toMatch(/^--cluster-id: invalid value "Cluster_A": must be a DNS-1123 label/);
  });
});
