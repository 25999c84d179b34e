export * from './charon.ts';
