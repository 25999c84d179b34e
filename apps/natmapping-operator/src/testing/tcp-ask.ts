/**
 * Test fixture: connects to `host:port`, prints what the server sends, exits 0; exits 1 with the
 * reason on failure or after `timeoutMs` (default 3000).
 *
 *   node tcp-ask.ts 10.32.0.10 7000
 */
import { connect } from 'node:net';

const [host = '', portText = '', timeoutText = '3000'] = process.argv.slice(2);
let data = '';
const s = connect({ host, port: Number(portText) });
const timer = setTimeout(() => {
  console.error(`timed out connecting to ${host}:${portText}`);
  process.exit(1);
}, Number(timeoutText));
s.on('data', (b: Buffer) => (data += b.toString()));
s.on('end', () => {
  clearTimeout(timer);
  process.stdout.write(data);
  process.exit(0);
});
s.on('error', (e) => {
  clearTimeout(timer);
  console.error(e.message);
  process.exit(1);
});
