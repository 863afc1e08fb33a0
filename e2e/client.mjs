// What a test works with: a World (one fresh server, its browser contexts and
// the guard watching them) and ChatPage, one person's tab, with steps and
// checks phrased the way a person would use the chat.

import { Guard } from './guard.mjs';
import { publish, request, ulid } from './nats.mjs';

export const PASSWORD = 'correct horse battery';
export const DEADLINE_MS = 10000;
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Polls `check` until it returns a truthy value; fails with `what` at the deadline. */
export async function until(what, check, timeoutMs = DEADLINE_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Relative luminance of a CSS rgb() color (WCAG). */
export function luminance(rgb) {
  const [r, g, b] = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The WCAG contrast ratio of two CSS rgb() colors (1 to 21). */
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

export class World {
  /** `quotes`: the loopback quote server (servers.mjs), whose prices a test may move. */
  constructor({ browser, server, quotes = null }) {
    this.browser = browser;
    this.server = server;
    this.quotes = quotes;
    this.guard = new Guard(server);
    this.contexts = [];
    this.pages = []; // [{name, page}]
  }

  async context({ viewport = DESKTOP, colorScheme = 'light' } = {}) {
    const context = await this.browser.newContext({
      baseURL: this.server.base,
      viewport,
      colorScheme,
      deviceScaleFactor: 1,
      isMobile: viewport.width < 500,
      hasTouch: viewport.width < 500,
    });
    context.setDefaultTimeout(DEADLINE_MS);
    this.contexts.push(context);
    return context;
  }

  async newPage(context, name) {
    const page = await context.newPage();
    this.guard.watch(page, name);
    this.pages.push({ name, page });
    return page;
  }

  /** A logged-out visitor on the login screen. */
  async visitor(name, options) {
    const context = await this.context(options);
    const page = await this.newPage(context, name);
    const chat = new ChatPage(this, context, page, name);
    this.guard.expectHttpError(page, 'GET', '/api/me', 401);
    await page.goto('/');
    await page.locator('#auth-form').waitFor();
    return chat;
  }

  /** Registers `name` over HTTP only (the session is thrown away). */
  async account(name) {
    const context = await this.context();
    await registerOver(context, name);
    await context.close();
  }

  /**
   * Registers `name` over HTTP and opens the chat as that user;
   * `prepare(context)` runs before the page opens (to route its WebSocket
   * through a `Cable` or a relay, or to install a clock).
   */
  async user(name, { prepare, ...options } = {}) {
    const context = await this.context(options);
    await registerOver(context, name);
    if (prepare) await prepare(context);
    const page = await this.newPage(context, name);
    const chat = new ChatPage(this, context, page, name);
    await page.goto('/');
    await chat.ready();
    return chat;
  }

  /** Another signed-in tab of the same person, e.g. with another theme or size. */
  async sameUser(chat, options) {
    const context = await this.context(options);
    const res = await context.request.post('/api/login', { data: { username: chat.name, password: PASSWORD } });
    assert(res.status() === 200, `login ${chat.name} answered ${res.status()}`);
    const page = await this.newPage(context, `${chat.name}@${options.viewport.width}-${options.colorScheme}`);
    const other = new ChatPage(this, context, page, chat.name);
    await page.goto('/');
    await other.ready();
    return other;
  }

  /**
   * Posts `texts` as `name` straight over the WebSocket protocol (from a
   * script in the page, beside the UI's own connection), a new connection every 15 messages to
   * stay under the per-connection rate limit. An entry may be a string or
   * the fields of a send (`{text, reply_to}`). Resolves with the message ids.
   */
  async post(name, channel, texts, { register = true } = {}) {
    const context = await this.context();
    if (register) await registerOver(context, name);
    else {
      const res = await context.request.post('/api/login', { data: { username: name, password: PASSWORD } });
      assert(res.status() === 200, `login ${name} answered ${res.status()}`);
    }
    const page = await this.newPage(context, `${name} (protocol)`);
    await page.goto('/');
    await new ChatPage(this, context, page, name).ready();
    const ids = await page.evaluate(postOverSocket, { channel, texts, perSocket: 15 });
    await context.close();
    return ids;
  }

  /**
   * Posts a Message on the bus as an operator would (`nats pub` as the `ops`
   * user): a fresh id, the time now, `kind` only when given. Needs a test on
   * the bus (`bus: true`).
   */
  async operatorPost(channel, { user = 'ops', text, kind }) {
    const { bus } = this.server;
    assert(bus, 'operator posts need a server on NATS: mark the test `bus: true`');
    const message = { id: ulid(), channel, user, text, ts: new Date().toISOString(), bot: false };
    if (kind) message.kind = kind;
    const ops = { url: bus.natsUrl, user: 'ops', password: bus.opsPassword };
    await publish(ops, `chat.msg.${channel}`, JSON.stringify(message));
  }

  /** An operator's request `chat.admin.<op>` with `body`; resolves with the answer. */
  async admin(op, body = {}) {
    const { bus } = this.server;
    assert(bus, 'admin requests need a server on NATS: mark the test `bus: true`');
    const ops = { url: bus.natsUrl, user: 'ops', password: bus.opsPassword };
    return request(ops, `chat.admin.${op}`, JSON.stringify(body));
  }

  /** Problems the guard saw, each a line. */
  problems() {
    return this.guard.verify();
  }

  async close() {
    await Promise.all(this.contexts.map((c) => c.close().catch(() => {})));
  }
}

async function registerOver(context, name) {
  const res = await context.request.post('/api/register', { data: { username: name, password: PASSWORD } });
  assert(res.status() === 201, `register ${name} answered ${res.status()} ${await res.text()}`);
}

/**
 * Runs in the page: joins `channel` and sends `texts`, waiting for each ack.
 * A send the server refuses as `overloaded` (a busy machine) goes again with
 * its ref after a pause, as the chat's own client does.
 */
async function postOverSocket({ channel, texts, perSocket }) {
  const ids = [];
  for (let start = 0; start < texts.length; start += perSocket) {
    const ws = new WebSocket(`ws://${location.host}/ws`);
    const frames = [];
    let wake = () => {};
    ws.onmessage = (ev) => {
      frames.push(JSON.parse(ev.data));
      wake();
    };
    const closed = new Promise((resolve) => { ws.onclose = resolve; });
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('WebSocket did not open'));
    });
    const next = async (pred) => {
      for (;;) {
        const i = frames.findIndex(pred);
        if (i >= 0) return frames.splice(i, 1)[0];
        await new Promise((resolve) => { wake = resolve; });
      }
    };
    ws.send(JSON.stringify({ type: 'join', channel }));
    await next((f) => f.type === 'joined' && f.channel === channel);
    for (let i = start; i < Math.min(texts.length, start + perSocket); i += 1) {
      const ref = `post-${i}`;
      const send = typeof texts[i] === 'string' ? { text: texts[i] } : texts[i];
      let answer;
      for (let tries = 1; ; tries += 1) {
        ws.send(JSON.stringify({ type: 'send', channel, ref, ...send }));
        answer = await next((f) => (f.type === 'ack' || f.type === 'error') && f.ref === ref);
        if (answer.type === 'ack' || answer.code !== 'overloaded' || tries === 10) break;
        await new Promise((resolve) => { setTimeout(resolve, 300 * tries); });
      }
      if (answer.type !== 'ack') throw new Error(`send refused: ${JSON.stringify(answer)}`);
      ids.push(answer.id);
    }
    ws.close(1000);
    await closed;
  }
  return ids;
}

/**
 * The page's WebSocket to the server, through Playwright, so that a test can
 * cut it (the page sees the connection drop, and its attempts to reconnect
 * fail) and mend it.
 */
export class Cable {
  constructor() {
    this.cut = false;
    this.open = new Set();
  }

  async attach(context) {
    await context.routeWebSocket(/\/ws$/, (ws) => {
      if (this.cut) {
        ws.close({ code: 4000, reason: 'unplugged' });
        return;
      }
      ws.connectToServer();
      this.open.add(ws);
    });
  }

  unplug() {
    this.cut = true;
    for (const ws of this.open) ws.close({ code: 4000, reason: 'unplugged' });
    this.open.clear();
  }

  plug() {
    this.cut = false;
  }
}

/** One person's tab. */
export class ChatPage {
  constructor(world, context, page, name) {
    this.world = world;
    this.context = context;
    this.page = page;
    this.name = name;
  }

  /** Registers through the form on the login screen. */
  async register(password = PASSWORD) {
    await this.page.click('#auth-tab-register');
    await this.page.fill('#auth-username', this.name);
    await this.page.fill('#auth-password', password);
    await this.page.click('#auth-submit');
    await this.ready();
  }

  /** Logs in through the form; resolves when the chat is connected. */
  async login(password = PASSWORD) {
    await this.page.click('#auth-tab-login');
    await this.page.fill('#auth-username', this.name);
    await this.page.fill('#auth-password', password);
    await this.page.click('#auth-submit');
    await this.ready();
  }

  /**
   * Waits for the chat screen with an open connection (the composer
   * enabled) and the channel list loaded (a channel named in the address
   * opens once it is).
   */
  async ready() {
    await this.page.locator('#chat-screen').waitFor();
    await this.page.locator('#composer-input:enabled').waitFor();
    await this.page.locator('#channel-list:not([aria-busy="true"])').waitFor({ state: 'attached' });
  }

  get isPhone() {
    return this.page.viewportSize().width <= 720;
  }

  /** Opens a channel from the channel list (through the drawer on a phone). */
  async openChannel(channel) {
    if (this.isPhone) {
      await this.page.click('#sidebar-toggle');
      await this.page.locator('#sidebar').waitFor({ state: 'visible' });
    }
    await this.page.locator('#channel-list .channel-btn', { has: this.page.locator('.channel-name', { hasText: new RegExp(`^${escapeRe(channel)}$`) }) }).click();
    await until(`#${channel} to be the open channel`, async () =>
      (await this.page.textContent('#channel-title')) === `# ${channel}`);
    await until(`#${channel} to load`, async () =>
      (await this.page.textContent('#history-status')) !== 'Loading messages…');
  }

  /** Creates a channel with the sidebar form. */
  async createChannel(channel) {
    if (this.isPhone) await this.page.click('#sidebar-toggle');
    await this.page.fill('#channel-name', channel);
    await this.page.press('#channel-name', 'Enter');
  }

  /** Types `text` in the composer and presses Enter. */
  async send(text) {
    const input = this.page.locator('#composer-input');
    await input.fill(text);
    await input.press('Enter');
  }

  /** The rows of messages whose text is exactly `text`. */
  messages(text) {
    return this.page.locator('#message-list li.msg').filter({
      has: this.page.locator('.msg-text', { hasText: new RegExp(`^${escapeRe(text)}$`) }),
    });
  }

  /** Waits until exactly one message `text` is shown and returns its row. */
  async expectMessage(text, { from } = {}) {
    const rows = this.messages(text);
    const states = await until(`${this.name} to see ${JSON.stringify(text)} (not pending)`, async () => {
      const list = await rows.evaluateAll((els) => els.map((el) => (el.classList.contains('is-failed') ? 'failed'
        : el.classList.contains('is-pending') ? 'pending' : 'shown')));
      return list.length && !list.includes('pending') ? list : null;
    }).catch(async (err) => {
      const shown = await this.page.locator('#message-list .msg-text').allTextContents().catch(() => []);
      throw new Error(`${err.message}; the last messages shown: ${JSON.stringify(shown.slice(-5))}`);
    });
    assert(!states.includes('failed'), `${JSON.stringify(text)} failed to send for ${this.name}`);
    assert(states.length === 1, `${this.name} sees ${JSON.stringify(text)} ${states.length} times`);
    const row = rows.first();
    if (from) {
      // Read until it settles: a grouped row shows its author on the row
      // that opens the group, which a render in progress may be rebuilding.
      let author = null;
      await until(`${this.name} to see ${JSON.stringify(text)} from ${from}`, async () => {
        author = await row.evaluate(authorOf);
        return author === from;
      }).catch(() => {});
      const top = author === from ? '' : await row.evaluate((li) => [...li.parentElement.children].slice(0, 4)
        .map((e) => `${e.className}:${e.querySelector('.msg-author')?.textContent || ''}`).join(' | '));
      assert(author === from, `${JSON.stringify(text)} is shown from ${author}, expected ${from} (the list begins ${top})`);
    }
    return row;
  }

  /** Waits until the page is online again, pressing "Retry now" rather than waiting out its backoff. */
  async backOnline(timeoutMs = DEADLINE_MS) {
    await until(`${this.name} to be back online`, async () => {
      const retry = this.page.locator('#banner-retry');
      if (await retry.isVisible()) await retry.click({ timeout: 1000 }).catch(() => {});
      return this.page.locator('#composer-input').isEnabled();
    }, timeoutMs);
  }

  /** Waits until message `id` is marked as the one gone to, wholly in view. */
  async expectGoneTo(id) {
    const target = this.page.locator(`#message-list li[data-id="${id}"]`);
    await target.waitFor();
    await until(`${this.name} to see message ${id} marked in view`, async () => {
      const inView = await target.evaluate((row) => {
        const view = document.getElementById('message-scroller').getBoundingClientRect();
        const box = row.getBoundingClientRect();
        return box.top >= view.top && box.bottom <= view.bottom;
      });
      return inView && (await target.getAttribute('class')).includes('is-highlight');
    });
  }

  async memberNames() {
    return this.page.locator('#member-list .member-name').allTextContents();
  }

  async typingText() {
    return (await this.page.textContent('#typing')) || '';
  }

  async screenshot(path) {
    await this.page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  }
}

/** The author shown for a message row: grouped rows show it on the row that opens the group. */
function authorOf(li) {
  for (let el = li; el; el = el.previousElementSibling) {
    const author = el.querySelector('.msg-author');
    if (author) return author.textContent;
    if (!el.classList.contains('msg')) break;
  }
  return null;
}
