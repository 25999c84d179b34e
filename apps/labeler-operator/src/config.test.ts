import { GATEWAY_LEASE_NAME, GATEWAY_POD_SELECTOR } from '@strait/api';
import { ConfigError, parseConfig } from '@strait/runtime';
import { describe, expect, it } from 'vitest';
import { configSpec } from './config.ts';
import { labelSelectorProblem } from './label-selector.ts';

const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(configSpec, ['--cluster-id=c1', ...argv], env);

describe('labeler-operator config', () => {
  it('defaults: gateway Lease, own Lease strait-labeler, gateway pod selector', () => {
    const c = parse([]);
    expect(c).toMatchObject({
      namespace: 'strait-system',
      gatewayLeaseName: GATEWAY_LEASE_NAME,
      leaseName: 'strait-labeler',
      gatewaySelector: GATEWAY_POD_SELECTOR,
    });
    expect(c.podName.length).toBeGreaterThan(0);
  });

  it('takes the identity from POD_NAME and the flags from the environment', () => {
    const c = parse([], { POD_NAME: 'labeler-7d9f', STRAIT_GATEWAY_LEASE_NAME: 'gw', STRAIT_GATEWAY_SELECTOR: 'app=gw,tier!=test' });
    expect(c).toMatchObject({ podName: 'labeler-7d9f', gatewayLeaseName: 'gw', gatewaySelector: 'app=gw,tier!=test' });
  });

  it.each([
    ['--gateway-selector=app=', undefined],
    ['--gateway-selector=a b=c', '--gateway-selector'],
    ['--gateway-selector=,', '--gateway-selector'],
    ['--gateway-lease-name=Not_A_Name', '--gateway-lease-name'],
    ['--pod-name=UPPER', '--pod-name'],
  ])('%s', (arg, flag) => {
    if (flag === undefined) {
      expect(() => parse([arg])).not.toThrow(); // an empty value is a valid label value
      return;
    }
    expect(() => parse([arg])).toThrow(ConfigError);
    expect(() => parse([arg])).toThrow(flag);
  });
});

describe('labelSelectorProblem', () => {
  it.each([GATEWAY_POD_SELECTOR, 'a==b', 'a!=b', 'a', '!a', 'a=b, c!=d ,e', 'example.com/x-y_z.w=V-1'])('accepts %s', (s) => {
    expect(labelSelectorProblem(s)).toBeUndefined();
  });
  it.each([
    ['', 'comma-separated'],
    ['a=b,', 'comma-separated'],
    ['a b=c', 'label key'],
    ['a=b c', 'label value'],
    ['!a=b', "'!'"],
    ['Bad_Prefix/x=y', 'prefix'],
    ['a in (b)', 'label key'],
    [`a=${'x'.repeat(64)}`, 'label value'],
  ])('rejects %s', (s, why) => {
    expect(labelSelectorProblem(s)).toContain(why);
  });
});
