import { describe, expect, it } from 'vitest';
import { startServiceProcess } from './testing/service-process.ts';

// runService's process-level behaviour (signals, crashes), with a fixture service that needs no control plane.
const fixture = new URL('./testing/fixtures/fixture-service.ts', import.meta.url);
const base = ['--probe-addr=127.0.0.1:0'];

describe('runService as a process', () => {
  it('an unhandled rejection is logged and exits 1', async () => {
    const p = startServiceProcess(fixture, [...base, '--mode=reject']);
    try {
      expect((await p.waitForExit(15_000)).code).toBe(1);
      expect(p.logs().find((l) => l['msg'] === 'unhandled promise rejection')).toMatchObject({ level: 'fatal', err: { message: 'fixture: nobody handles this' } });
    } finally {
      await p.kill();
    }
  });

  it('an uncaught exception is logged and exits 1', async () => {
    const p = startServiceProcess(fixture, [...base, '--mode=throw']);
    try {
      expect((await p.waitForExit(15_000)).code).toBe(1);
      expect(p.logs().find((l) => l['msg'] === 'uncaught exception')).toMatchObject({ level: 'fatal', err: { message: 'fixture: uncaught' } });
    } finally {
      await p.kill();
    }
  });

  it('SIGTERM while starting shuts down gracefully once start returns', async () => {
    const p = startServiceProcess(fixture, [...base, '--mode=slow-start']);
    try {
      await p.waitForLog('start begins');
      const r = await p.stop('SIGTERM', 15_000);
      expect(r.code).toBe(0);
      const msgs = p.logs().map((l) => l['msg']);
      expect(msgs.indexOf('started')).toBeLessThan(msgs.indexOf('shutting down (the datapath stays in place)'));
      expect(msgs).toContain('stopped');
    } finally {
      await p.kill();
    }
  });

  it('a stop that hangs is cut off by --shutdown-timeout (exit 1)', async () => {
    const p = startServiceProcess(fixture, [...base, '--mode=hang-stop', '--shutdown-timeout=300ms']);
    try {
      await p.waitForReady();
      expect((await p.stop('SIGTERM', 15_000)).code).toBe(1);
      expect(p.logs().some((l) => l['msg'] === 'stop did not finish within the shutdown timeout')).toBe(true);
    } finally {
      await p.kill();
    }
  });

  it('a second signal during a hanging stop exits 1 at once', async () => {
    const p = startServiceProcess(fixture, [...base, '--mode=hang-stop', '--shutdown-timeout=1m']);
    try {
      await p.waitForReady();
      p.child.kill('SIGTERM');
      await p.waitForLog('shutting down (the datapath stays in place)');
      const r = await p.stop('SIGINT', 5_000);
      expect(r.code).toBe(1);
      expect(p.logs().some((l) => l['msg'] === 'second signal: exiting at once')).toBe(true);
    } finally {
      await p.kill();
    }
  });

  it('SIGINT stops an idle service with exit 0', async () => {
    const p = startServiceProcess(fixture, base);
    try {
      await p.waitForReady();
      expect((await p.stop('SIGINT')).code).toBe(0);
    } finally {
      await p.kill();
    }
  });
});
