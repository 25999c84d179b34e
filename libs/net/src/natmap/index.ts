// NAT maps of the natmapping-operator: the desired state computed from NatMappings (pure), and a
// long-lived `nft -i` session for O(1) element changes.
export * from './addresses.ts';
export * from './desired.ts';
export * from './nft-session.ts';
