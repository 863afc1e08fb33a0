// End-to-end tests of the browser UI: the real chat-server, a loopback quote
// API and headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core. Each test gets a fresh server and data dir.
//
//   node e2e/run.mjs [name filter]
//
// CHAT_SERVER_BIN   the server binary (default: target/debug/chat-server)
// CHROMIUM          the browser (default: /usr/bin/chromium)
// CHAT_E2E_NATS_URL, CHAT_E2E_NATS_SERVER_PASSWORD, CHAT_E2E_NATS_OPS_PASSWORD,
// CHAT_E2E_DATABASE_URL  a nats-server with the project's nats.conf and a
//                   PostgreSQL database, for the tests on the bus (`bus: true`:
//                   their server runs distributed); without them those tests
//                   are skipped. They share the database: each uses its own names.
// UPDATE_SCREENSHOTS=1  write the screenshots to docs/screenshots/ (otherwise
//                   they go to e2e/test-results/, like failure screenshots)
//
// Exits non-zero when any test fails; prints why and where its artifacts are.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { World } from './client.mjs';
import { ChatServer, startQuoteServer } from './servers.mjs';
import { tests as chatTests } from './chat.test.mjs';
import { tests as resilienceTests } from './resilience.test.mjs';
import { tests as layoutTests } from './layout.test.mjs';
import { tests as limitsTests } from './limits.test.mjs';
import { tests as screenshotTests } from './screenshots.test.mjs';
import { tests as busTests } from './bus.test.mjs';
import { tests as replyTests } from './replies.test.mjs';
import { tests as searchTests } from './search.test.mjs';
import { tests as changeTests } from './changes.test.mjs';
import { tests as formattingTests } from './formatting.test.mjs';
import { tests as reactionTests } from './reactions.test.mjs';
import { tests as unreadTests } from './unread.test.mjs';
import { tests as peopleTests } from './people.test.mjs';
import { tests as membersTests } from './members.test.mjs';
import { tests as investorTests } from './investor.test.mjs';
import { tests as operatorTests } from './operators.test.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const TEST_TIMEOUT_MS = 90000;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync'];

const config = {
  bin: process.env.CHAT_SERVER_BIN || path.join(root, 'target', 'debug', 'chat-server'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  results: path.join(here, 'test-results'),
  screenshots: process.env.UPDATE_SCREENSHOTS === '1'
    ? path.join(root, 'docs', 'screenshots')
    : path.join(here, 'test-results', 'screenshots'),
  bus: process.env.CHAT_E2E_NATS_URL && process.env.CHAT_E2E_DATABASE_URL
    ? {
      natsUrl: process.env.CHAT_E2E_NATS_URL,
      serverPassword: process.env.CHAT_E2E_NATS_SERVER_PASSWORD,
      opsPassword: process.env.CHAT_E2E_NATS_OPS_PASSWORD,
      databaseUrl: process.env.CHAT_E2E_DATABASE_URL,
    }
    : null,
};

const live = new Set(); // servers to kill if the runner itself is stopped
process.on('exit', () => live.forEach((s) => s.child && s.child.kill('SIGKILL')));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${secs(ms)}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function saveArtifacts(test, world) {
  fs.mkdirSync(config.results, { recursive: true });
  const saved = [];
  for (const { name, page } of world.pages) {
    if (page.isClosed()) continue;
    const file = path.join(config.results, `${slug(test.name)}--${slug(name)}.png`);
    try {
      await page.screenshot({ path: file, timeout: 5000 });
      saved.push(file);
    } catch {
      // The page may be gone with its context; the error says enough.
    }
  }
  return saved;
}

async function runOne(test, browser, quotes) {
  const server = new ChatServer({
    bin: config.bin, stockApiUrl: quotes.url, stockHistoryUrl: quotes.historyUrl, bus: test.bus ? config.bus : null, env: test.env,
  });
  live.add(server);
  const started = Date.now();
  let world = null;
  let failure = null;
  try {
    await quotes.reset(); // prices a test before this one moved
    await server.start();
    world = new World({ browser, server, quotes });
    const run = test.run(world, config);
    run.catch(() => {}); // a timed-out run rejects later, when its pages close
    await withTimeout(run, TEST_TIMEOUT_MS, 'the test');
    const problems = world.problems();
    if (problems.length) failure = `the page reported problems:\n  ${problems.join('\n  ')}`;
  } catch (err) {
    const problems = world ? world.problems() : [];
    failure = (err && err.stack) || String(err);
    if (problems.length) failure += `\nthe page also reported:\n  ${problems.join('\n  ')}`;
  }
  if (failure) {
    const shots = world ? await saveArtifacts(test, world) : [];
    if (shots.length) failure += `\nscreenshots:\n  ${shots.join('\n  ')}`;
    failure += `\nserver log (last lines):\n${server.logTail()}`;
  }
  if (world) await world.close();
  await server.dispose();
  live.delete(server);
  return { failure, ms: Date.now() - started };
}

async function main() {
  for (const [what, file] of [['chat-server', config.bin], ['chromium', config.chromium]]) {
    if (!fs.existsSync(file)) {
      console.error(`${what} not found at ${file}`);
      process.exit(2);
    }
  }
  const filter = process.argv[2] || '';
  const all = [...chatTests, ...resilienceTests, ...layoutTests, ...limitsTests, ...screenshotTests, ...busTests, ...replyTests, ...searchTests,
    ...changeTests, ...formattingTests, ...reactionTests, ...unreadTests, ...peopleTests, ...membersTests, ...investorTests, ...operatorTests];
  const chosen = all.filter((t) => t.name.includes(filter));
  const started = Date.now();
  const quotes = await startQuoteServer();
  const browser = await chromium.launch({ executablePath: config.chromium, args: CHROMIUM_ARGS });
  console.log(`browser tests: ${chosen.length} of ${all.length}, Chromium ${browser.version()}`);
  const failed = [];
  let skipped = 0;
  for (const test of chosen) {
    if (test.bus && !config.bus) {
      skipped += 1;
      console.log(`skip ${test.name} (no NATS and PostgreSQL given: CHAT_E2E_NATS_URL, CHAT_E2E_DATABASE_URL)`);
      continue;
    }
    const { failure, ms } = await runOne(test, browser, quotes);
    if (failure) {
      // The summary names the reason too: a long log may be cut in the middle.
      failed.push(`${test.name}\n    ${failure.split('\n')[0]}`);
      console.log(`FAIL ${test.name} (${secs(ms)})\n${failure.replace(/^/gm, '     ')}`);
    } else {
      console.log(`ok   ${test.name} (${secs(ms)})`);
    }
  }
  await browser.close();
  await quotes.close();
  if (failed.length) console.log(`\nfailed:\n  ${failed.join('\n  ')}`);
  const passed = chosen.length - failed.length - skipped;
  console.log(`\n${passed} passed, ${failed.length} failed, ${skipped} skipped (${secs(Date.now() - started)})`);
  process.exitCode = failed.length || !chosen.length ? 1 : 0;
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
