import { describe, expect, it } from 'vitest';
import { DOC_HEADER, renderSection, upsertSection } from './doc-section.ts';
import type { BenchReport } from './report.ts';

const report = (bench: string, value: number): BenchReport => ({
  bench,
  title: 'Time until every peer is reconciled.',
  date: new Date('2026-12-07T23:40:12Z'),
  machine: { cores: 2, cpu: 'Test CPU', kernel: 'Linux 6.1.0', memoryGiB: 7.8, load1: 3.25 },
  command: `npx straitctl bench ${bench}`,
  figures: [
    { name: 'all reconciled', value, unit: 'ms', goal: { op: '<=', value: 5000 } },
    { name: 'RSS a|b', value: 71.3, unit: 'MiB' },
  ],
  notes: ['One trial.', 'Second note.'],
});

describe('renderSection', () => {
  it('has the markers, date, machine, command, goals and a figures table', () => {
    expect(renderSection(report('peers', 1200))).toBe(
      [
        '<!-- straitctl bench peers: begin -->',
        '## peers',
        '',
        'Time until every peer is reconciled.',
        '',
        '- Date: 2026-12-07 23:40 UTC',
        '- Machine: 2 cores (Test CPU), 7.8 GiB, Linux 6.1.0; load average 3.25 at the start',
        '- Command: `npx straitctl bench peers`',
        '- Goals: all met',
        '',
        '| figure | value | goal |',
        '|---|---|---|',
        '| all reconciled | 1200 ms | ≤ 5000 ms (met) |',
        '| RSS a\\|b | 71.3 MiB |  |',
        '',
        'One trial.',
        '',
        'Second note.',
        '<!-- straitctl bench peers: end -->',
      ].join('\n'),
    );
    expect(renderSection(report('peers', 6000))).toContain('- Goals: missed: all reconciled');
    expect(renderSection(report('peers', 6000))).toContain('| ≤ 5000 ms (**missed**) |');
  });
});

describe('upsertSection', () => {
  it('starts a new file from the header', () => {
    const doc = upsertSection(undefined, 'peers', renderSection(report('peers', 1)));
    expect(doc.startsWith(DOC_HEADER)).toBe(true);
    expect(doc.endsWith('<!-- straitctl bench peers: end -->\n')).toBe(true);
  });

  it('appends a new benchmark and replaces an existing one in place, keeping everything else', () => {
    let doc = upsertSection('# Benchmarks\n\nhand-written intro\n', 'failover', renderSection(report('failover', 1)));
    doc = upsertSection(doc, 'peers', renderSection(report('peers', 2)));
    doc = `${doc}\n## Notes by hand\n\nkept\n`;
    const next = upsertSection(doc, 'failover', renderSection(report('failover', 3)));
    expect(next).toContain('hand-written intro');
    expect(next).toContain('## Notes by hand\n\nkept\n');
    expect(next).toContain('| all reconciled | 3 ms |');
    expect(next).not.toContain('| all reconciled | 1 ms |');
    expect(next).toContain('| all reconciled | 2 ms |');
    expect(next.indexOf('## failover')).toBeLessThan(next.indexOf('## peers'));
    expect(next.match(/## failover/g)).toHaveLength(1);
    // Same figures again: the file does not change.
    expect(upsertSection(next, 'failover', renderSection(report('failover', 3)))).toBe(next);
  });

  it('refuses a section whose end marker is gone', () => {
    const broken = '# B\n\n<!-- straitctl bench peers: begin -->\n## peers\n';
    expect(() => upsertSection(broken, 'peers', renderSection(report('peers', 1)))).toThrow('has "<!-- straitctl bench peers: begin -->" but no "<!-- straitctl bench peers: end -->"');
  });
});
