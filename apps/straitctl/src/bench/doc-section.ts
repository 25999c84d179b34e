import { goalMet, goalText, machineText, missedGoals, valueText, type BenchReport } from './report.ts';

/**
 * docs/benchmarks.md holds one section per benchmark between two markers; `straitctl bench NAME`
 * replaces its own section in place (or appends it) and keeps the rest of the file as it is.
 */

export const DOC_HEADER = [
  '# Benchmarks',
  '',
  'Figures written by `npx straitctl bench NAME` (one section per benchmark, replaced in place by the',
  'next run of the same benchmark). Methods and older figures: docs/benchmarks/, docs/adr/0004 and 0007.',
  '',
].join('\n');

export const beginMarker = (bench: string): string => `<!-- straitctl bench ${bench}: begin -->`;
export const endMarker = (bench: string): string => `<!-- straitctl bench ${bench}: end -->`;

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderSection(r: BenchReport): string {
  const missed = missedGoals(r);
  const withGoals = r.figures.some((f) => f.goal);
  const date = `${r.date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const lines = [
    beginMarker(r.bench),
    `## ${r.bench}`,
    '',
    r.title,
    '',
    `- Date: ${date}`,
    `- Machine: ${machineText(r.machine)}`,
    `- Command: \`${r.command}\``,
    ...(withGoals ? [`- Goals: ${missed.length === 0 ? 'all met' : `missed: ${missed.map((f) => f.name).join(', ')}`}`] : []),
    '',
    '| figure | value | goal |',
    '|---|---|---|',
    ...r.figures.map((f) => {
      const met = goalMet(f);
      return `| ${cell(f.name)} | ${valueText(f.value, f.unit)} | ${f.goal ? `${goalText(f.goal, f.unit)} ${met ? '(met)' : '(**missed**)'}` : ''} |`;
    }),
    // One paragraph a note.
    ...(r.notes ?? []).flatMap((n) => ['', n]),
    endMarker(r.bench),
  ];
  return lines.join('\n');
}

/**
 * `doc` with the section of `bench` replaced by `section` (a renderSection() result), or the section
 * appended when the file has none; `undefined` (no file yet) starts from DOC_HEADER. A begin marker
 * without its end marker is an error (nothing is rewritten).
 */
export function upsertSection(doc: string | undefined, bench: string, section: string): string {
  const base = doc === undefined || doc.trim() === '' ? DOC_HEADER : doc;
  const begin = base.indexOf(beginMarker(bench));
  if (begin < 0) return `${base.replace(/\n*$/, '')}\n\n${section}\n`;
  const endAt = base.indexOf(endMarker(bench), begin);
  if (endAt < 0) throw new Error(`the section of ${bench} has "${beginMarker(bench)}" but no "${endMarker(bench)}": fix the file by hand`);
  return base.slice(0, begin) + section + base.slice(endAt + endMarker(bench).length);
}
