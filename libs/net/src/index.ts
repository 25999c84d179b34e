export * from './exec.ts';
export * from './recording-runner.ts';
