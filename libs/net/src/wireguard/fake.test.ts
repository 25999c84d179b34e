import { describe, expect, it } from 'vitest';
import { FakeWireGuardControl } from './fake.ts';
import { generateKeyPair, generatePresharedKey, keyFingerprint } from './keys.ts';

describe('FakeWireGuardControl', () => {
  it('follows the UAPI set semantics and keeps no secret', async () => {
    const wg = new FakeWireGuardControl('wg0');
    const me = generateKeyPair();
    const a = generateKeyPair();
    const b = generateKeyPair();
    const psk = generatePresharedKey();
    await wg.set({ privateKey: me.privateKey, listenPort: 51820, peers: [{ publicKey: a.publicKey, presharedKey: psk, allowedIps: ['10.2.0.0/16'] }, { publicKey: b.publicKey, allowedIps: ['10.3.0.0/16'] }] });
    await wg.set({ peers: [{ publicKey: a.publicKey, allowedIps: ['10.4.0.0/16'] }, { publicKey: b.publicKey, remove: true }, { publicKey: generateKeyPair().publicKey, updateOnly: true }] });
    const state = await wg.get();
    expect(state.publicKey).toBe(me.publicKey);
    expect(state.peers).toHaveLength(1);
    expect(state.peers[0]).toMatchObject({ allowedIps: ['10.2.0.0/16', '10.4.0.0/16'], hasPresharedKey: true, presharedKeyFingerprint: keyFingerprint(psk) });
    await wg.set({ peers: [{ publicKey: a.publicKey, presharedKey: null, replaceAllowedIps: true, allowedIps: ['10.5.0.0/16'] }] });
    expect((await wg.get()).peers[0]).toMatchObject({ allowedIps: ['10.5.0.0/16'], hasPresharedKey: false });
    expect(JSON.stringify(await wg.get())).not.toContain(psk);
    expect(JSON.stringify(await wg.get())).not.toContain(me.privateKey);
    await expect(wg.set({ peers: [{ publicKey: 'bad' }] })).rejects.toThrow(/peers\[0\]\.publicKey/);
    expect(wg.sets).toBe(3);
    wg.handshake(a.publicKey, new Date(1_000), { rx: 10, tx: 20 });
    expect((await wg.get()).peers[0]).toMatchObject({ lastHandshake: new Date(1_000), rxBytes: 10, txBytes: 20 });
  });
});
