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
 * Talks to NATS at `url`: once it greets, writes `hello` (CONNECT and what
 * follows), then hands what it says to `listen(received, finish)` until
 * `finish(err, value)` is called; a `-ERR` (e.g. a permissions violation)
 * rejects.
 */
function talk(url, hello, listen) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const timer = setTimeout(() => finish(new Error(`no answer from NATS at ${url}`)), DEADLINE_MS);
    let received = '';
    let greeted = false;
    function finish(err, value) {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    }
    socket.setEncoding('utf8');
    socket.on('error', finish);
    socket.on('data', (chunk) => {
      received += chunk;
      if (!greeted) {
        if (!received.includes('\r\n')) return;
        greeted = true;
        received = '';
        socket.write(hello);
        return;
      }
      if (received.includes('PING\r\n')) socket.write('PONG\r\n');
      const error = received.match(/-ERR ([^\r]*)/);
      if (error) finish(new Error(`NATS refused: ${error[1]}`));
      else listen(received, finish);
    });
  });
}

const connect = (user, password, name) =>
  `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, user, pass: password, name })}\r\n`;

/**
 * Publishes `payload` (a string) on `subject` as `user`; resolves once the
 * server has it (the PONG to a PING after it), rejects with the server's
 * `-ERR` (e.g. a permissions violation).
 */
export function publish({ url, user, password }, subject, payload) {
  const hello = `${connect(user, password, 'e2e')}PUB ${subject} ${Buffer.byteLength(payload)}\r\n${payload}\r\nPING\r\n`;
  return talk(url, hello, (received, finish) => {
    if (received.includes('PONG')) finish(null);
  });
}

/**
 * Sends an operator's request (`chat.admin.<op>`) as `user` with the
 * operators' inbox prefix, as `nats --inbox-prefix _INBOX_ops req` does;
 * resolves with the answer, parsed.
 */
export function request({ url, user, password }, subject, payload) {
  const inbox = `_INBOX_ops.${randomBytes(8).toString('hex')}`;
  const hello = `${connect(user, password, 'e2e-ops')}SUB ${inbox} 1\r\n`
    + `PUB ${subject} ${inbox} ${Buffer.byteLength(payload)}\r\n${payload}\r\n`;
  return talk(url, hello, (received, finish) => {
    // MSG <subject> <sid> <bytes>\r\n<payload>\r\n, whole once it has its bytes.
    const msg = received.match(/MSG \S+ 1 (\d+)\r\n/);
    if (!msg) return;
    const bytes = Buffer.from(received.slice(msg.index + msg[0].length));
    if (bytes.length < Number(msg[1])) return;
    finish(null, JSON.parse(bytes.subarray(0, Number(msg[1])).toString('utf8')));
  });
}
