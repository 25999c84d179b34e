import { RecordingRunner } from '@strait/net';
import { describe, expect, it } from 'vitest';
import { destroyRun, runLinksIn } from './cleanup.ts';

describe('topology clean-up', () => {
  it('finds the run links in `ip -j link show` output by prefix only', () => {
    const json = [{ ifname: 'lo' }, { ifname: 'tab12-1g1' }, { ifname: 'tab123-1g1' }, { ifname: 'eth0' }, { nope: 1 }, 'junk'];
    expect(runLinksIn(json, 'tab12')).toEqual(['tab12-1g1']);
    expect(runLinksIn({}, 'tab12')).toEqual([]);
  });

  it('deletes the run namespaces and root links, leaving everything else', async () => {
    const ns = new Set(['tab12-a-g1', 'tab12-wan', 'tab123-a-g1', 'other']);
    const links = new Set(['lo', 'tab12-stray', 'eth0']);
    const runner = new RecordingRunner((cmd, args) => {
      const a = args.join(' ');
      if (a === '-j netns list') return JSON.stringify([...ns].map((name) => ({ name })));
      if (a === '-j link show') return JSON.stringify([...links].map((ifname) => ({ ifname })));
      if (args[0] === 'netns' && args[1] === 'delete') ns.delete(args[2] as string);
      if (args[0] === 'link' && args[1] === 'del') links.delete(args[3] as string);
      return '';
    });
    const r = await destroyRun('tab12', runner);
    expect(r).toEqual({ namespaces: ['tab12-a-g1', 'tab12-wan'], rootLinks: ['tab12-stray'], processesKilled: 0 });
    expect([...ns]).toEqual(['tab123-a-g1', 'other']);
    expect([...links]).toEqual(['lo', 'eth0']);
    // Processes in each namespace are looked up before it is deleted.
    const order = runner.commands.map((c) => c.args.slice(0, 2).join(' ')).filter((x) => x === 'netns pids' || x === 'netns delete');
    expect(order).toEqual(['netns pids', 'netns pids', 'netns delete', 'netns delete']);
  });

  it('says what is left when something cannot be removed', async () => {
    const runner = new RecordingRunner((_cmd, args) => {
      const a = args.join(' ');
      if (a === '-j netns list') return JSON.stringify([{ name: 'tab12-a-g1' }]);
      if (args[0] === 'netns' && args[1] === 'delete') return { fail: 'Cannot remove namespace file "/run/netns/tab12-a-g1": Device or resource busy' };
      return '';
    });
    await expect(destroyRun('tab12', runner)).rejects.toThrow(/topology tab12: clean-up left netns tab12-a-g1 \(ip netns delete tab12-a-g1: Cannot remove/);
  });
});
