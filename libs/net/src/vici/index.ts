export * from './errors.ts';
export * from './message.ts';
export * from './packet.ts';
export * from './connection.ts';
export * from './client.ts';
export * from './fake.ts';
