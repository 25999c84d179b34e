import type { ConnectionState } from '../types.ts';
import type { Prober } from './ping-prober.ts';

/**
 * Combines the tunnel's own signal (handshake, SA state) with the in-tunnel probe. The tunnel signal
 * decides first; when it says "up", the probe can still demote to Connecting (no reply yet) or Error
 * (`failAfter` probes lost in a row).
 */
export function applyHealth(
  tunnel: { state: ConnectionState; message: string },
  prober: Prober | undefined,
  remoteIp: string | undefined,
  failAfter: number,
): { state: ConnectionState; message: string } {
  if (tunnel.state !== 'Connected' || !prober) return tunnel;
  if (prober.lostInARow >= failAfter) {
    return { state: 'Error', message: `${tunnel.message}; but ${prober.lostInARow} health probes to ${remoteIp} lost in a row` };
  }
  if (!prober.everReplied) return { state: 'Connecting', message: `${tunnel.message}; waiting for the first health probe reply from ${remoteIp}` };
  return tunnel;
}
