/**
 * UDP echo responder for the topology's loss probe (udp-probe.ts). Run inside the target namespace:
 *
 *   ip netns exec <ns> node udp-echo.ts [--port 17007] [--bind 0.0.0.0]
 *
 * Sends every datagram back to where it came from, unchanged. Prints one JSON line
 * `{"event":"ready","port":N}` once bound; exits when its stdin closes (the parent went away), on
 * SIGTERM/SIGINT, or with `{"event":"error",...}` and exit code 1 when it cannot bind.
 */
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '17007' },
    bind: { type: 'string', default: '0.0.0.0' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.log(JSON.stringify({ event: 'error', message: `--port ${values.port} is not a port number` }));
  process.exit(2);
}

const sock = createSocket('udp4');
let echoed = 0;
sock.on('message', (msg, rinfo) => {
  echoed++;
  sock.send(msg, rinfo.port, rinfo.address);
});
sock.on('error', (e) => {
  console.log(JSON.stringify({ event: 'error', message: e.message }));
  process.exit(1);
});
sock.bind(port, values.bind, () => {
  console.log(JSON.stringify({ event: 'ready', port: sock.address().port }));
});

const stop = (): void => {
  console.log(JSON.stringify({ event: 'stopped', echoed }));
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
