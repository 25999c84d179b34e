import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;

/**
 * Test tiers (file suffix decides the tier):
 *  - unit         *.test.ts          pure logic and fakes; seconds; no root, no binaries
 *  - integration  *.int.test.ts      real etcd / kube-apiserver / kube-controller-manager / nats-server
 *  - netns        *.netns.test.ts    real kernel networking in network namespaces; needs root
 *  - e2e          *.e2e.test.ts      the lab: control planes + namespaces + every service as a process
 */
const common = {
  exclude: ['**/node_modules/**', '**/dist/**', '**/out-tsc/**'],
};

export default defineConfig({
  root,
  test: {
    reporters: ['default', resolve(root, 'tools/vitest/summary-reporter.ts')],
    projects: [
      {
        test: {
          name: 'unit',
          // Tiers run one after another: real control planes and namespaces do not compete for 2 cores.
          sequence: { groupOrder: 0 },
          include: ['{apps,libs}/**/src/**/*.test.ts'],
          exclude: [...common.exclude, '**/*.int.test.ts', '**/*.netns.test.ts', '**/*.e2e.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['{apps,libs}/**/src/**/*.int.test.ts'],
          exclude: common.exclude,
          testTimeout: 120_000,
          hookTimeout: 300_000,
          globalSetup: [resolve(root, 'tools/vitest/controlplane-setup.ts')],
          fileParallelism: false,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'netns',
          sequence: { groupOrder: 2 },
          include: ['{apps,libs}/**/src/**/*.netns.test.ts'],
          exclude: common.exclude,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'e2e',
          sequence: { groupOrder: 3 },
          include: ['{apps,libs}/**/src/**/*.e2e.test.ts'],
          exclude: common.exclude,
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
