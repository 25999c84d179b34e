export * from './keys.ts';
export * from './types.ts';
export * from './uapi.ts';
export * from './wg-cli.ts';
export * from './userspace.ts';
export * from './link.ts';
export * from './fake.ts';
