import { NetCommandError, planElementUpdate, type CommandRunner, type FakeNetwork, type NftFamily, type NftTable } from '@strait/net';

/**
 * Test support: a CommandRunner that executes element-only `nft -f -` scripts (what NatDatapath
 * writes after its first apply) against a FakeNetwork, as ONE transaction: every line is planned
 * on the fake table first, and the table changes only if all of them apply (`failNext` on the fake
 * makes the whole script fail, like the kernel would). Anything else is refused.
 */
export function fakeNftRunner(net: FakeNetwork): CommandRunner {
  const LINE = /^(add|delete) element (\S+) (\S+) (\S+) \{ (.*) \}$/;
  return {
    async run(cmd, args, opts = {}) {
      const ns = opts.netns;
      const input = opts.input ?? '';
      if (cmd !== 'nft' || args.join(' ') !== '-f -') throw new Error(`fakeNftRunner: unexpected command ${cmd} ${args.join(' ')}`);
      const lines = input.split('\n').filter((l) => l.trim() !== '');
      const space = net.state.ns(ns);
      const tables = new Map<string, NftTable>();
      for (const line of lines) {
        const m = LINE.exec(line);
        if (!m) throw new Error(`fakeNftRunner: not an element line: ${line}`);
        const [, verb, family, table, set, body] = m as unknown as [string, 'add' | 'delete', NftFamily, string, string, string];
        const key = `${family} ${table}`;
        const cur = tables.get(key) ?? space.nft.get(key);
        if (!cur) throw new NetCommandError({ command: 'nft', args: ['-f', '-'], ...(ns ? { netns: ns } : {}), exitCode: 1, stderr: `Error: No such file or directory; did you mean table ${table}?` });
        const items = body.split(', ');
        const target = cur.sets.get(set);
        if (verb === 'delete') {
          const missing = items.find((k) => !target?.elements.has(k));
          if (missing) throw new NetCommandError({ command: 'nft', args: ['-f', '-'], ...(ns ? { netns: ns } : {}), exitCode: 1, stderr: `Error: Could not process rule: No such file or directory\n${line}` });
        }
        const changes = verb === 'delete' ? { delete: items } : { add: target?.isMap ? items.map((i) => i.split(' : ') as [string, string]) : items };
        tables.set(key, planElementUpdate(cur, { family, table, name: set }, changes).next);
      }
      net.state.write(ns, 'nft', lines); // throws (changing nothing) when failNext matches
      for (const [k, t] of tables) space.nft.set(k, t);
      return { stdout: '', stderr: '' };
    },
  };
}
