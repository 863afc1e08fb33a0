// Posting on NATS from a test as an operator does with `nats pub`: the NATS
// text protocol over one TCP connection (CONNECT, PUB, then PING, whose PONG
// says the server took the message), and a fresh message id.

import net from 'node:net';
import { randomBytes } from 'node:crypto';

const DEADLINE_MS = 5000;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID made now (48 bits of milliseconds, 80 random bits), as message ids are. */
export function ulid(now = Date.now()) {
  let n = (BigInt(now) << 80n) | BigInt(`0x${randomBytes(10).toString('hex')}`);
  let out = '';
  for (let i = 0; i < 26; i += 1) {
    out = CROCKFORD[Number(n & 31n)] + out;
    n >>= 5n;
  }
  return out;
}

/**
 * Publishes `payload` (a string) on `subject` as `user`; resolves once the
 * server has it, rejects with the server's `-ERR` (e.g. a permissions violation).
 */
export function publish({ url, user, password }, subject, payload) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const timer = setTimeout(() => finish(new Error(`no answer from NATS at ${url}`)), DEADLINE_MS);
    let received = '';
    let greeted = false;
    function finish(err) {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    }
    socket.setEncoding('utf8');
    socket.on('error', finish);
    socket.on('data', (chunk) => {
      received += chunk;
      if (!greeted && received.includes('\r\n')) {
        greeted = true;
        const connect = JSON.stringify({ verbose: false, pedantic: false, user, pass: password, name: 'e2e' });
        socket.write(`CONNECT ${connect}\r\nPUB ${subject} ${Buffer.byteLength(payload)}\r\n${payload}\r\nPING\r\n`);
      }
      const error = received.match(/-ERR ([^\r]*)/);
      if (error) finish(new Error(`NATS refused: ${error[1]}`));
      else if (received.includes('PONG')) finish(null);
    });
  });
}
