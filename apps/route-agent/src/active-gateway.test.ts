import type { Endpoint, Gateway } from '@strait/api';
import { describe, expect, it } from 'vitest';
import { activeGateway, internalIp } from './active-gateway.ts';

const gw = (name: string, node: string): Gateway => ({ metadata: { name, namespace: 's' }, spec: { node } }) as Gateway;
const ep = (hostname: string): Endpoint => ({ metadata: { name: 'a', namespace: 's' }, spec: { clusterID: 'a', hostname } }) as unknown as Endpoint;
const nodeIps = new Map([
  ['n1', '192.168.1.2'],
  ['n2', '192.168.1.3'],
]);
const base = { gateways: [gw('pod-1', 'n1'), gw('pod-2', 'n2')], endpoints: [ep('n1')], clusterId: 'a', hint: undefined, nodeIps };

describe('activeGateway', () => {
  it('is the Lease holder\'s node (through its Gateway object), addressed by the Node InternalIP', () => {
    expect(activeGateway({ ...base, lease: { holder: 'pod-2', transitions: 3 } })).toEqual({ kind: 'resolved', node: 'n2', ip: '192.168.1.3', holder: 'pod-2', source: 'lease' });
  });
  it('the Lease wins over a stale Endpoint; a hint for the same holder names the node when no Gateway object exists yet', () => {
    expect(activeGateway({ ...base, gateways: [], lease: { holder: 'pod-9', transitions: 1 }, hint: { holder: 'pod-9', node: 'n2' } })).toMatchObject({ kind: 'resolved', node: 'n2' });
    expect(activeGateway({ ...base, gateways: [], lease: { holder: 'pod-9', transitions: 1 }, hint: { holder: 'pod-8', node: 'n2' } })).toMatchObject({ kind: 'unresolved', holder: 'pod-9' });
  });
  it('a holder named like a Node is that node', () => {
    expect(activeGateway({ ...base, gateways: [], lease: { holder: 'n1', transitions: 0 } })).toMatchObject({ kind: 'resolved', node: 'n1' });
  });
  it('without a Lease holder: the Endpoint\'s hostname; without either: none', () => {
    expect(activeGateway({ ...base, lease: undefined })).toMatchObject({ kind: 'resolved', node: 'n1', source: 'endpoint' });
    expect(activeGateway({ ...base, lease: { holder: '', transitions: 0 }, endpoints: [] })).toEqual({ kind: 'none' });
  });
  it('a node without an InternalIP is unresolved, naming it', () => {
    const g = activeGateway({ ...base, nodeIps: new Map(), lease: { holder: 'pod-1', transitions: 0 } });
    expect(g).toMatchObject({ kind: 'unresolved', node: 'n1' });
    expect(g.kind === 'unresolved' && g.reason).toMatch(/n1 has no InternalIP/);
  });
  it('internalIp picks the IPv4 InternalIP', () => {
    expect(internalIp({ status: { addresses: [{ type: 'Hostname', address: 'x' }, { type: 'InternalIP', address: 'fd00::1' }, { type: 'InternalIP', address: '10.0.0.4' }] } })).toBe('10.0.0.4');
    expect(internalIp(undefined)).toBeUndefined();
  });
});
