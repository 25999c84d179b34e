import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderBrokerAccessYaml } from './access.ts';

describe('the Broker access model', () => {
  it('is shipped up to date in manifests/broker-access.yaml (node apps/broker-sync/scripts/render-manifests.ts)', async () => {
    const file = readFileSync(new URL('../manifests/broker-access.yaml', import.meta.url), 'utf8');
    expect(file).toBe(await renderBrokerAccessYaml({ namespace: 'strait-broker' }));
  });
});
