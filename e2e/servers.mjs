// The processes a test talks to: the real `chat-server` binary on a free
// loopback port with a temp data dir (or, for a test on the bus, on NATS and
// PostgreSQL), and a loopback HTTP server standing in for the quote API
// (stooq's CSV formats: the latest quote and the daily history), with a
// control route through which a test moves a price.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const START_DEADLINE_MS = 15000;
const STOP_DEADLINE_MS = 15000;
const CSV_HEADER = 'Symbol,Date,Time,Open,High,Low,Close,Volume';
const HISTORY_HEADER = 'Date,Open,High,Low,Close,Volume';
/** The latest quote of each known code: [symbol, date, time, open, high, low, close, volume]. */
const QUOTES = {
  'aapl.us': ['AAPL.US', '2026-11-27', '22:00:09', 92.1, 94, 91.8, 93.42, 41234567],
  'msft.us': ['MSFT.US', '2026-11-27', '22:00:09', 410, 415, 409, 412.5, 1234567],
};
/** Days of history per known code, one row per calendar day up to the quote's date. */
const HISTORY_DAYS = 120;

const cents = (v) => Math.round(v * 100) / 100;

/**
 * The daily history of a known code, oldest first, in stooq's CSV: made up
 * from a formula (a drift and a swing), so the same every run, and ending
 * at the code's latest close.
 */
function historyOf(code) {
  const quote = QUOTES[code];
  if (!quote) return null;
  const [, date, , , , , close] = quote;
  const end = Date.parse(`${date}T00:00:00Z`);
  const last = HISTORY_DAYS - 1;
  const swing = close * 0.04;
  const rows = [];
  for (let i = 0; i <= last; i += 1) {
    const day = new Date(end - (last - i) * 86400000).toISOString().slice(0, 10);
    const c = cents(close + close * 0.001 * (last - i) + swing * (Math.sin(i / 6) - Math.sin(last / 6)));
    const o = cents(c - close * 0.005 * Math.cos(i / 4));
    const high = cents(Math.max(o, c) + close * 0.008);
    const low = cents(Math.min(o, c) - close * 0.007);
    const volume = 30000000 + ((i * 7919) % 10000000);
    rows.push(`${day},${o},${high},${low},${c},${volume}`);
  }
  return `${HISTORY_HEADER}\r\n${rows.join('\r\n')}\r\n`;
}

/**
 * Starts the quote server; resolves with {url, historyUrl (templates with
 * {code}), setClose(code, price), reset(), close()}. setClose moves the
 * close of a known code in the quotes served from then on (through the
 * control route, POST /control/quote?s=CODE&close=PRICE); reset() puts
 * every price back (POST /control/reset).
 */
export async function startQuoteServer() {
  const closes = new Map(); // code -> the close a test set
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const code = (url.searchParams.get('s') || '').toLowerCase();
    if (req.method === 'POST' && url.pathname === '/control/quote') {
      const close = Number(url.searchParams.get('close'));
      if (!QUOTES[code] || !Number.isFinite(close) || close <= 0) {
        res.writeHead(400).end();
        return;
      }
      closes.set(code, close);
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/control/reset') {
      closes.clear();
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/q/d/l/' && code) {
      const history = historyOf(code);
      res.writeHead(200, { 'Content-Type': 'text/csv' }).end(history || 'No data');
      return;
    }
    if (url.pathname !== '/q/l/' || !code) {
      res.writeHead(404).end();
      return;
    }
    let row = `${code.toUpperCase()},N/D,N/D,N/D,N/D,N/D,N/D,N/D`;
    if (QUOTES[code]) {
      const [symbol, date, time, open, high, low, close, volume] = QUOTES[code];
      const now = closes.get(code) ?? close;
      row = [symbol, date, time, open, Math.max(high, now), Math.min(low, now), now, volume].join(',');
    }
    res.writeHead(200, { 'Content-Type': 'text/csv' }).end(`${CSV_HEADER}\r\n${row}\r\n`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  const base = `http://127.0.0.1:${port}`;
  const control = async (route) => {
    const res = await fetch(`${base}${route}`, { method: 'POST' });
    if (res.status !== 204) throw new Error(`the quote server answered ${res.status} to POST ${route}`);
  };
  return {
    url: `${base}/q/l/?s={code}&f=sd2t2ohlcv&h&e=csv`,
    historyUrl: `${base}/q/d/l/?s={code}&i=d`,
    setClose: (code, close) => control(`/control/quote?s=${encodeURIComponent(code)}&close=${close}`),
    reset: () => control('/control/reset'),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** A loopback port nobody listens on right now. */
export async function freePort() {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One `chat-server`, in embedded mode, or in distributed mode when given
 * `bus` ({natsUrl, serverPassword, opsPassword, databaseUrl}: a nats-server
 * with the project's nats.conf and a PostgreSQL database; no bot or archiver
 * runs then). It keeps its port and data dir across stop() and start(), so a
 * restart is the same server coming back, and it remembers when it was down
 * (see wasDownAt).
 */
export class ChatServer {
  /** `env`: more environment for the server, e.g. a limit a test is about. */
  constructor({ bin, stockApiUrl, stockHistoryUrl, bus = null, env = {} }) {
    this.bin = bin;
    this.stockApiUrl = stockApiUrl;
    this.stockHistoryUrl = stockHistoryUrl;
    this.bus = bus;
    this.env = env;
    this.sessionKey = randomBytes(64).toString('hex');
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-e2e-'));
    this.port = 0;
    this.child = null;
    this.outages = []; // [{from, to}] in epoch ms; `to` is null while down
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  get logPath() {
    return path.join(this.dataDir, 'server.log');
  }

  async start() {
    if (!this.port) this.port = await freePort();
    const env = { ...process.env };
    for (const name of ['NATS_URL', 'DATABASE_URL', 'CHAT_SESSION_KEY', 'CHAT_ALLOWED_ORIGINS']) delete env[name];
    Object.assign(env, {
      CHAT_BIND: `127.0.0.1:${this.port}`,
      CHAT_DATA_DIR: this.dataDir,
      STOCK_API_URL: this.stockApiUrl,
      STOCK_HISTORY_URL: this.stockHistoryUrl,
      // Price alerts are checked every second, so that a test sees one fire soon.
      BOT_ALERT_INTERVAL_SECS: '1',
      CHAT_BCRYPT_COST: '10',
      RUST_LOG: env.RUST_LOG || 'info,actix_web::middleware::logger=warn',
      NO_COLOR: '1',
      // Every visitor signs up and creates channels from 127.0.0.1: the
      // hourly limits on both are lifted unless a test sets them.
      CHAT_SIGNUPS_PER_HOUR: '100000',
      CHAT_CHANNELS_PER_HOUR: '100000',
    }, this.env);
    if (this.bus) {
      Object.assign(env, {
        NATS_URL: this.bus.natsUrl,
        NATS_USER: 'server',
        NATS_PASSWORD: this.bus.serverPassword,
        DATABASE_URL: this.bus.databaseUrl,
        CHAT_SESSION_KEY: this.sessionKey,
      });
    }
    const log = fs.openSync(this.logPath, 'a');
    this.child = spawn(this.bin, [], { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const child = this.child;
    let exited = null;
    child.once('exit', (code, signal) => { exited = signal || `exit code ${code}`; });
    const deadline = Date.now() + START_DEADLINE_MS;
    while (!(await this.healthy())) {
      if (exited) throw new Error(`chat-server exited at start (${exited}); log:\n${this.logTail()}`);
      if (Date.now() > deadline) throw new Error(`chat-server did not answer /healthz; log:\n${this.logTail()}`);
      await sleep(50);
    }
    const outage = this.outages[this.outages.length - 1];
    if (outage && outage.to === null) outage.to = Date.now();
  }

  async healthy() {
    try {
      const res = await fetch(`${this.base}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Stops the process with `signal` (SIGTERM: a graceful stop) and waits for it to exit. */
  async stop(signal = 'SIGTERM') {
    const child = this.child;
    if (!child) return;
    this.child = null;
    this.outages.push({ from: Date.now(), to: null });
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
    await exited;
    clearTimeout(timer);
  }

  /** True when the server was stopped at `at` (epoch ms), give or take `graceMs` after it came back. */
  wasDownAt(at, graceMs = 3000) {
    return this.outages.some((o) => at >= o.from && (o.to === null || at <= o.to + graceMs));
  }

  logTail(lines = 40) {
    try {
      const text = fs.readFileSync(this.logPath, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
      return text.split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops the process at once and removes the data dir. */
  async dispose() {
    await this.stop('SIGKILL');
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
