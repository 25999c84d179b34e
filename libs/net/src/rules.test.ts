import { HOST } from './apply-report.ts';
import { describe, expect, it } from 'vitest';
import { FakeNetwork } from './fake/fake-network.ts';
import { RecordingRunner } from './recording-runner.ts';
import { IpRules, type RuleSpec } from './rules.ts';

const V4 = JSON.stringify([
  { priority: 0, src: 'all', table: '255' },
  { priority: 100, src: '10.1.0.0', srclen: 16, table: '18952', protocol: '201' },
  { priority: 101, src: 'all', dst: '10.2.0.0', dstlen: 16, fwmark: '0x10', fwmask: '0xff', iif: 'v0', table: '101', protocol: '201' },
  { priority: 150, src: '10.7.0.0', srclen: 16, table: '7', protocol: '4' },
  { priority: 32766, src: 'all', table: '254' },
]);
const V6 = JSON.stringify([{ priority: 100, src: 'all', table: '18952', protocol: '201' }]);

const kernel = (): RecordingRunner => new RecordingRunner((_c, args) => (args.includes('show') ? (args[0] === '-4' ? V4 : V6) : ''));

describe('rules', () => {
  it('lists only rules with protocol 201', async () => {
    const rules = await new IpRules(kernel()).list(HOST);
    expect(rules).toEqual([
      { family: 4, priority: 100, from: '10.1.0.0/16', to: undefined, iif: undefined, oif: undefined, fwmark: undefined, fwmask: undefined, table: 18952 },
      { family: 4, priority: 101, from: undefined, to: '10.2.0.0/16', iif: 'v0', oif: undefined, fwmark: 16, fwmask: 255, table: 101 },
      { family: 6, priority: 100, from: undefined, to: undefined, iif: undefined, oif: undefined, fwmark: undefined, fwmask: undefined, table: 18952 },
    ]);
  });

  it('adds and deletes whole rules in one batch, zero writes when equal', async () => {
    const rec = kernel();
    const same = [
      { priority: 100, from: '10.1.0.0/16', table: 18952 },
      { priority: 101, to: '10.2.0.0/16', iif: 'v0', fwmark: 0x10, fwmask: 0xff, table: 101 },
      { priority: 100, family: 6 as const, table: 18952 },
    ];
    expect((await new IpRules(rec).apply(HOST, same)).writes).toBe(0);
    expect(rec.writes).toHaveLength(0);
    const r = await new IpRules(rec).apply(HOST, [same[0] as RuleSpec, { priority: 102, from: 'fd00::/8', table: 18952 }, same[2] as RuleSpec]);
    expect(r).toMatchObject({ added: 1, removed: 1, writes: 1 });
    expect(rec.writes[0]?.input).toBe(
      'rule add priority 102 from fd00::/8 lookup 18952 protocol 201\n' +
        'rule del priority 101 from 0.0.0.0/0 to 10.2.0.0/16 iif v0 fwmark 0x10/0xff lookup 101 protocol 201\n',
    );
  });

  it('scope by tables and validation', async () => {
    expect(await new IpRules(kernel()).list(HOST, { tables: [101] })).toHaveLength(1);
    await expect(new IpRules(kernel()).apply(HOST, [{ priority: 0, table: 5 }])).rejects.toThrow('rules[0].priority: 0 is not an integer');
    await expect(new IpRules(kernel()).apply(HOST, [{ priority: 5, table: 5, from: '10.0.0.0/8', to: 'fd00::/8' }])).rejects.toThrow(
      'rules[0].to: fd00::/8 is not IPv4',
    );
    await expect(new IpRules(kernel()).apply(HOST, [{ priority: 5, table: 5, fwmask: 1 }])).rejects.toThrow('rules[0].fwmask: needs fwmark');
  });

  it('fake: foreign rules untouched by apply and deleteOwned', async () => {
    const net = new FakeNetwork();
    net.seedRule(HOST, { priority: 100, from: '10.1.0.0/16', table: 18952 }, 4);
    await net.rules.apply(HOST, [{ priority: 100, from: '10.1.0.0/16', table: 18952 }]);
    expect(net.allRules(HOST)).toHaveLength(2);
    await net.rules.deleteOwned(HOST);
    expect(net.allRules(HOST).map((r) => r.proto)).toEqual([4]);
  });
});
