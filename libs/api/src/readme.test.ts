import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Validate } from './schema/validator.ts';
import { validateCluster } from './resources/cluster.ts';
import { validateEndpoint } from './resources/endpoint.ts';
import { validateGateway } from './resources/gateway.ts';
import { validateNatMapping } from './resources/nat-mapping.ts';
import { validateTunnelEndpoint } from './resources/tunnel-endpoint.ts';

const validators: Record<string, Validate<unknown>> = {
  Cluster: validateCluster,
  Endpoint: validateEndpoint,
  TunnelEndpoint: validateTunnelEndpoint,
  NatMapping: validateNatMapping,
  Gateway: validateGateway,
};

const readme = readFileSync(resolve(import.meta.dirname, '..', 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => parse(m[1] ?? '') as { kind?: string })
  .filter((doc) => typeof doc?.kind === 'string' && doc.kind in validators);

describe('README examples', () => {
  it('show every kind', () => {
    expect(examples.map((e) => e.kind).sort()).toEqual(Object.keys(validators).sort());
  });

  it.each(examples.map((e) => [e.kind!, e] as const))('%s example is valid', (kind, example) => {
    expect(validators[kind]!(example)).toMatchObject({ ok: true });
  });
});
