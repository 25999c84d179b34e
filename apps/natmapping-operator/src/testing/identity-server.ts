/**
 * Test fixture: a TCP server that answers every connection with `<name> saw <client address>` and
 * closes it — so a client can tell which host a translated address reached, and that host which
 * source it saw.
 *
 *   node identity-server.ts pod 7000
 */
import { createServer } from 'node:net';

const [name = 'server', portText = '7000'] = process.argv.slice(2);
const server = createServer((s) => {
  s.on('error', () => undefined);
  s.end(`${name} saw ${(s.remoteAddress ?? '?').replace(/^::ffff:/, '')}\n`);
});
server.listen(Number(portText), '::', () => console.log('ready')); // IPv4 and IPv6
process.on('SIGTERM', () => process.exit(0));
