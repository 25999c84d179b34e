import { describe, expect, it } from 'vitest';
import { FakeNetwork } from './fake/fake-network.ts';
import { IpNetns } from './netns.ts';
import { RecordingRunner } from './recording-runner.ts';

describe('netns', () => {
  it('ensure adopts an existing namespace without writing', async () => {
    const rec = new RecordingRunner((_c, args) => (args.includes('list') ? '[{"name":"strait-netns","id":0},{"name":"other"}]' : ''));
    const n = new IpNetns(rec);
    expect(await n.list()).toEqual(['strait-netns', 'other']);
    expect((await n.ensure('strait-netns')).writes).toBe(0);
    expect((await n.ensure('new-one')).added).toBe(1);
    expect(rec.writes.map((w) => w.line)).toEqual(['ip netns add new-one']);
    await expect(n.ensure('bad/name')).rejects.toThrow('netns: "bad/name" is not a valid namespace name');
  });

  it('fake', async () => {
    const net = new FakeNetwork();
    await net.netns.ensure('a');
    expect(await net.netns.list()).toEqual(['a']);
    await net.netns.delete('a');
    expect((await net.netns.delete('a')).writes).toBe(0);
  });
});
