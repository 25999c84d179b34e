export * from './exec.ts';
export * from './recording-runner.ts';
export * from './vici/index.ts';
export * from './wireguard/index.ts';
export * from './ipsec/index.ts';
