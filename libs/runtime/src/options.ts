import { hostname } from 'node:os';
import { LOG_LEVELS } from '@strait/observability';
import { dns1123Label, dns1123Subdomain, formatDuration, opt } from './config.ts';

/**
 * Option groups shared by Strait's services. Compose them in an app's config spec:
 *
 *   defineConfig({ ...serviceOptions({ probePort: 9101 }), ...kubeOptions(), ...clusterOptions(), ...natsOptions() },
 *                { checks: [natsCheck] })
 */

/** Options every service has: log level, probe address, shutdown bound. */
export function serviceOptions(o: { probePort: number }) {
  return {
    logLevel: opt.enum(LOG_LEVELS, { description: 'minimum log level', default: 'info' }),
    probeAddr: opt.hostport({ description: 'listen address of the /livez, /readyz and /metrics server', default: { host: '0.0.0.0', port: o.probePort } }),
    shutdownTimeout: opt.duration({ description: 'upper bound for a graceful shutdown after SIGTERM', default: '10s', min: 1 }),
  };
}

/** Kubernetes connection: kubeconfig (in-cluster or $KUBECONFIG when unset) and the namespace Strait runs in. */
export function kubeOptions() {
  return {
    kubeconfig: opt.path({
      description: 'kubeconfig file',
      mustExist: 'file',
      envAliases: ['KUBECONFIG'],
      defaultText: 'in-cluster, or $KUBECONFIG, or ~/.kube/config',
    }),
    namespace: opt.string({ description: "namespace of Strait's own objects", default: 'strait-system', validate: dns1123Label }),
  };
}

/** This cluster's identity in the cluster set. */
export function clusterOptions() {
  return {
    clusterId: opt.string({ description: 'this cluster\'s ID in the cluster set (DNS-1123 label)', required: true, validate: dns1123Label }),
  };
}

/** The node this process runs on (hostNetwork services); Kubernetes passes it by the downward API as NODE_NAME. */
export function nodeOptions() {
  return {
    nodeName: opt.string({ description: 'name of the Node this process runs on', default: hostname().toLowerCase(), defaultText: 'the host name', envAliases: ['NODE_NAME'], validate: dns1123Subdomain }),
  };
}

/** NATS event-bus connection. Without --nats-url the service runs without the bus (NATS only carries hints). */
export function natsOptions() {
  return {
    natsUrl: opt.list(opt.url({ description: 'NATS server', protocols: ['nats:', 'tls:'] }), { description: 'NATS server URL(s), comma-separated; unset: no event bus' }),
    natsUser: opt.string({ description: 'NATS user name' }),
    natsPassword: opt.string({ description: 'NATS password', secret: true, fromFile: true }),
    natsToken: opt.string({ description: 'NATS authentication token', secret: true, fromFile: true }),
  };
}

/** Cross-checks of natsOptions(): user and password go together; token excludes user/password; credentials need a URL. */
export function natsCheck(v: { natsUrl: string[]; natsUser: string | undefined; natsPassword: string | undefined; natsToken: string | undefined }): string | undefined {
  if (v.natsUser !== undefined && v.natsPassword === undefined) return '--nats-user needs --nats-password (or --nats-password-file)';
  if (v.natsPassword !== undefined && v.natsUser === undefined) return '--nats-password needs --nats-user';
  if (v.natsToken !== undefined && v.natsUser !== undefined) return '--nats-token and --nats-user are mutually exclusive';
  if (v.natsUrl.length === 0 && (v.natsUser !== undefined || v.natsToken !== undefined)) return 'NATS credentials given without --nats-url';
  return undefined;
}

/** Lease-based leader election timings (client-go semantics). */
export function leaderElectionOptions(o: { leaseName: string; leaseDuration?: string; renewDeadline?: string; retryPeriod?: string }) {
  return {
    leaseName: opt.string({ description: 'name of the coordination.k8s.io Lease used for leader election', default: o.leaseName, validate: dns1123Subdomain }),
    leaseDuration: opt.duration({ description: 'how long a Lease is valid after its last renewal', default: o.leaseDuration ?? '2s', min: 100 }),
    renewDeadline: opt.duration({ description: 'how long the leader keeps retrying to renew before it steps down', default: o.renewDeadline ?? '1500ms', min: 50 }),
    retryPeriod: opt.duration({ description: 'interval between attempts to acquire or renew the Lease', default: o.retryPeriod ?? '250ms', min: 10 }),
  };
}

/** client-go's rule: lease-duration > renew-deadline > retry-period × 1.2 (jitter). */
export function leaderElectionCheck(v: { leaseDuration: number; renewDeadline: number; retryPeriod: number }): string | undefined {
  if (v.renewDeadline >= v.leaseDuration) {
    return `--renew-deadline (${formatDuration(v.renewDeadline)}) must be shorter than --lease-duration (${formatDuration(v.leaseDuration)})`;
  }
  if (v.retryPeriod * 1.2 >= v.renewDeadline) {
    return `--retry-period (${formatDuration(v.retryPeriod)}) × 1.2 must be shorter than --renew-deadline (${formatDuration(v.renewDeadline)})`;
  }
  return undefined;
}

/** The gateway network namespace (services that program it: tunnel-operator, natmapping-operator). */
export function netnsOptions() {
  return {
    netnsName: opt.string({
      description: 'name of the gateway network namespace (ip netns)',
      default: 'strait-netns',
      pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
      patternHint: 'must be a network namespace name (letters, digits, _ . -; at most 64 characters)',
    }),
  };
}
