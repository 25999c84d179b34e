// @strait/broker: pure logic of the Broker exchange — checking a remote cluster's Broker objects, the
// TunnelEndpoint and NatMapping produced from them, the cable driver of each pair (docs/adr/0011), the
// remapped pod CIDR plan, and the Broker's access model (see docs/adr/0008).
export * from './peer.ts';
export * from './backend.ts';
export * from './remap.ts';
export * from './access-policy.ts';
