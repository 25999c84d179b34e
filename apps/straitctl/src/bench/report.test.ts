import { describe, expect, it } from 'vitest';
import { describeMachine, goalMet, reportJson, reportText, valueText, type BenchReport } from './report.ts';

const r: BenchReport = {
  bench: 'failover',
  title: 'Datapath loss.',
  date: new Date('2026-12-07T23:00:00Z'),
  machine: { cores: 2, cpu: 'Test CPU', kernel: 'Linux 6.1.0', memoryGiB: 4, load1: 0.5 },
  command: 'npx straitctl bench failover',
  figures: [
    { name: 'graceful p50', value: 205, unit: 'ms', goal: { op: '<=', value: 300 } },
    { name: 'crash max', value: 2300, unit: 'ms', goal: { op: '<=', value: 2000 } },
    { name: 'ratio', value: 0.95123, unit: 'x', goal: { op: '>=', value: 0.9 } },
  ],
  detail: { samples: [1] },
};

describe('report', () => {
  it('describes the machine from its source', () => {
    expect(describeMachine({ cores: () => 2, cpuModel: () => '  AMD   EPYC ', kernel: () => 'Linux 6.18', memoryBytes: () => 8 * 2 ** 30, load1: () => 1.23456 })).toEqual({ cores: 2, cpu: 'AMD EPYC', kernel: 'Linux 6.18', memoryGiB: 8, load1: 1.23 });
  });

  it('checks goals both ways', () => {
    expect(r.figures.map(goalMet)).toEqual([true, false, true]);
    expect(goalMet({ name: 'x', value: 1, unit: '' })).toBeUndefined();
  });

  it('prints one JSON line with the figures, the goals and the detail', () => {
    const line = reportJson(r);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      bench: 'failover',
      date: '2026-12-07T23:00:00.000Z',
      machine: r.machine,
      command: 'npx straitctl bench failover',
      goalsMet: false,
      figures: [
        { name: 'graceful p50', value: 205, unit: 'ms', goal: { op: '<=', value: 300 }, met: true },
        { name: 'crash max', value: 2300, unit: 'ms', goal: { op: '<=', value: 2000 }, met: false },
        { name: 'ratio', value: 0.95123, unit: 'x', goal: { op: '>=', value: 0.9 }, met: true },
      ],
      detail: { samples: [1] },
    });
  });

  it('prints a readable summary', () => {
    expect(reportText(r)).toBe(
      [
        'failover: Datapath loss.',
        '  on 2 cores (Test CPU), 4 GiB, Linux 6.1.0; load average 0.5 at the start',
        '  graceful p50  205 ms  (goal ≤ 300 ms: met)',
        '  crash max     2300 ms  (goal ≤ 2000 ms: MISSED)',
        '  ratio         0.951×  (goal ≥ 0.9×: met)',
        '',
      ].join('\n'),
    );
    expect(valueText(12.34567, 'MiB')).toBe('12.346 MiB');
  });
});
