// Members of big channels: the count of those present in the header, right
// however few names the server tells at once (--joined-members), live as
// people come and go; the members panel read page by page from the route,
// with "Show more", online dots and what the route says after someone
// leaves; the list read again at most every few seconds while the panel is
// shown, and never while it is hidden.

import { PASSWORD, PHONE, assert, until, contrast } from './client.mjs';

/** How often the panel may read its list again (static/js/view/members.js). */
const REREAD_MS = 3000;

/** "6 people here", "1 person here". */
const hereLabel = (n) => `${n.toLocaleString('en')} ${n === 1 ? 'person' : 'people'} here`;

/**
 * What `chat`'s header says of the count: {shown, text, label} of the count
 * beside the channel's name (on a phone, of the one on the members button),
 * and the members button's label.
 */
const countShown = (chat) => chat.page.evaluate((phone) => {
  const here = document.getElementById('channel-people');
  const badge = document.querySelector('#members-toggle .icon-btn-count');
  const shown = phone ? badge : here;
  return {
    shown: shown.getClientRects().length > 0 && getComputedStyle(shown).visibility === 'visible',
    text: shown.textContent.trim(),
    label: here.getAttribute('aria-label'),
    button: document.getElementById('members-toggle').getAttribute('aria-label'),
  };
}, chat.isPhone);

/** Waits until `chat`'s header shows `n` present, with its label and on the members button. */
async function expectCount(chat, n) {
  let seen = null;
  await until(`${chat.name}'s header to count ${n}`, async () => {
    seen = await countShown(chat);
    return seen.shown && seen.text === n.toLocaleString('en') && seen.label === hereLabel(n)
      && seen.button === `Members, ${hereLabel(n)}`;
  }).catch((err) => {
    throw new Error(`${err.message} (it shows ${JSON.stringify(seen)})`);
  });
}

/** The rows of `chat`'s members panel: [{user, online}], as shown. */
const rowsShown = (chat) => chat.page.locator('#member-list .member').evaluateAll((rows) => rows.map((li) => ({
  user: li.querySelector('.member-name').textContent,
  online: li.classList.contains('is-present') && !!li.querySelector('.presence-dot'),
})));

const namesOf = (rows) => rows.map((r) => r.user).join(',');

/** Everyone the route lists in `channel` to `chat`'s person, every page read: [{user, online}]. */
async function listedByRoute(chat, channel) {
  const all = [];
  let after = null;
  for (;;) {
    const query = after ? `?after=${encodeURIComponent(after)}` : '';
    const res = await chat.context.request.get(`/api/channels/${channel}/members${query}`);
    assert(res.status() === 200, `GET …/members answered ${res.status()}`);
    const page = await res.json();
    all.push(...page.members.map((m) => ({ user: m.user, online: m.online })));
    if (!page.next) return all;
    after = page.next;
  }
}

/** Waits until `chat`'s panel lists exactly what the route lists, names and dots. */
async function expectPanelAsRoute(chat, channel, what) {
  let shown = [];
  let listed = [];
  await until(`${chat.name}'s panel to list ${what} as the route does`, async () => {
    [shown, listed] = await Promise.all([rowsShown(chat), listedByRoute(chat, channel)]);
    return JSON.stringify(shown) === JSON.stringify(listed);
  }).catch((err) => {
    throw new Error(`${err.message}: shown ${JSON.stringify(shown)}, listed ${JSON.stringify(listed)}`);
  });
  return shown;
}

/** Counts the member-list reads `chat`'s page sends from now on. */
function countReads(chat, channel) {
  const reads = [];
  chat.page.on('request', (req) => {
    if (new URL(req.url()).pathname === `/api/channels/${channel}/members`) reads.push(Date.now());
  });
  return reads;
}

/**
 * Signs `name` up and opens a page of the server that is not the chat (so
 * that nothing joins a channel by itself), from which a test drives a
 * WebSocket of that person.
 */
async function socketOf(world, name) {
  const context = await world.context();
  const res = await context.request.post('/api/register', { data: { username: name, password: PASSWORD } });
  assert(res.status() === 201, `register ${name} answered ${res.status()}`);
  const page = await world.newPage(context, `${name} (socket)`);
  // The browser asks for a favicon the server does not have: answered here.
  await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
  await page.goto('/healthz');
  return page;
}

/** Runs in a page of socketOf(): opens a WebSocket, joins `channel` and keeps it open. */
async function joinOverSocket(channel) {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('WebSocket did not open'));
  });
  await new Promise((resolve) => {
    ws.onmessage = (ev) => {
      const frame = JSON.parse(ev.data);
      if (frame.type === 'joined' && frame.channel === channel) resolve();
    };
    ws.send(JSON.stringify({ type: 'join', channel }));
  });
  window.kept = ws;
}

/** Runs in a page of socketOf(): joins and leaves `channel` `times` times, `gapMs` apart. */
async function flicker({ channel, times, gapMs }) {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('WebSocket did not open'));
  });
  let wake = () => {};
  ws.onmessage = (ev) => {
    if (JSON.parse(ev.data).type === 'joined') wake();
  };
  const pause = () => new Promise((resolve) => { setTimeout(resolve, gapMs); });
  for (let i = 0; i < times; i += 1) {
    const joined = new Promise((resolve) => { wake = resolve; });
    ws.send(JSON.stringify({ type: 'join', channel }));
    await joined;
    await pause();
    ws.send(JSON.stringify({ type: 'leave', channel }));
    await pause();
  }
  ws.close(1000);
}

/** Records, in `chat`'s page from its next load, the presence frames it receives (window.presenceFrames). */
async function recordPresence(chat) {
  await chat.page.addInitScript(() => {
    window.presenceFrames = [];
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (ev) => {
          try {
            const frame = JSON.parse(ev.data);
            if (frame.type === 'presence') window.presenceFrames.push(frame);
          } catch {
            // Not JSON: not ours to record.
          }
        });
      }
    };
  });
}

/**
 * Records, in `chat`'s page from its next load, every state of the header
 * a person could see: the channel's name and the count beside it
 * (window.headerStates, one entry per change).
 */
async function recordHeader(chat) {
  await chat.page.addInitScript(() => {
    window.headerStates = [];
    const note = () => {
      const here = document.getElementById('channel-people');
      const title = document.getElementById('channel-title');
      const state = { title: title.textContent, count: here.hidden ? null : here.getAttribute('aria-label') };
      const last = window.headerStates[window.headerStates.length - 1];
      if (!last || last.title !== state.title || last.count !== state.count) window.headerStates.push(state);
    };
    document.addEventListener('DOMContentLoaded', () => {
      const watch = { subtree: true, childList: true, characterData: true, attributes: true };
      const observer = new MutationObserver(note);
      observer.observe(document.getElementById('channel-title'), watch);
      observer.observe(document.getElementById('channel-people'), watch);
      note();
    });
  });
}

/**
 * Hands `frame` to `chat`'s page as if its server had sent it (through the
 * page's own frame handling, the modules it loaded).
 */
const handFrame = (chat, frame) => chat.page.evaluate(async (f) => {
  const { applyFrame } = await import('/js/frames.js');
  applyFrame(f, { presence() {} });
}, frame);

async function createOver(chat, name) {
  const res = await chat.context.request.post('/api/channels', { data: { name } });
  assert(res.status() === 201, `create #${name} answered ${res.status()} ${await res.text()}`);
}

export const tests = [
  {
    name: 'members: the header counts everyone live beyond the names told at once; the panel pages by name with "Show more" and reads again at most every few seconds, only while shown',
    env: { CHAT_JOINED_MEMBERS: '3' },
    async run(world) {
      const alice = await world.user('alice');
      await expectCount(alice, 1);
      const aliceReads = countReads(alice, 'general');
      await until('alice\'s panel to list her', async () => namesOf(await rowsShown(alice)) === 'alice');

      // Four more arrive (on phones: their panels are closed); alice's count rises with each.
      const others = {};
      for (const [i, name] of ['bob', 'carol', 'dave', 'erin'].entries()) {
        others[name] = await world.user(name, { viewport: PHONE });
        await expectCount(alice, i + 2);
      }
      const frank = await world.user('frank');
      await expectCount(alice, 6);
      await expectCount(frank, 6);
      await expectCount(others.bob, 6); // on a phone, on the members button
      assert(!(await others.bob.page.locator('#channel-people').isVisible()), 'on a phone the count leaves the room to the channel name');
      assert(!(await frank.page.locator('#members-toggle .icon-btn-count').isVisible()), 'on a desktop it is said once, beside the name');

      // frank came in when six were here: the server named three, and his panel reads pages of three.
      await until('frank\'s first page', async () => namesOf(await rowsShown(frank)) === 'alice,bob,carol');
      const more = frank.page.locator('#members-more');
      assert(await more.isVisible(), '"Show more" is offered');
      await new Promise((resolve) => { setTimeout(resolve, 500); });
      assert(namesOf(await rowsShown(frank)) === 'alice,bob,carol', 'no more than the first page is shown until asked');
      // The keyboard reaches it from the list, and Enter reads the next page.
      await frank.page.locator('#member-list').focus();
      await frank.page.keyboard.press('Tab');
      assert(await frank.page.evaluate(() => document.activeElement?.id === 'members-more'), 'Tab reaches "Show more"');
      await frank.page.keyboard.press('Enter');
      const everyone = await until('frank\'s panel to list all six', async () => {
        const rows = await rowsShown(frank);
        return rows.length === 6 ? rows : null;
      });
      assert(namesOf(everyone) === 'alice,bob,carol,dave,erin,frank', `everyone once, by name (${namesOf(everyone)})`);
      assert(everyone.every((r) => r.online), 'each with a dot: everyone is here');
      assert(await more.isHidden(), 'nothing more to show');
      assert(await frank.page.evaluate(() => document.activeElement?.id === 'member-list'), 'the focus goes to the list it filled');
      await expectPanelAsRoute(frank, 'general', 'everyone');

      // carol closes her page: the count drops live, and the panels say what the route says.
      await others.carol.page.close();
      await expectCount(alice, 5);
      await expectCount(frank, 5);
      const after = await expectPanelAsRoute(frank, 'general', 'those left');
      assert(!after.some((r) => r.user === 'carol' && r.online), 'carol is not shown as here');
      assert(!(await rowsShown(alice)).some((r) => r.user === 'carol' && r.online), 'nor to alice');
      await expectPanelAsRoute(alice, 'general', 'those left');

      // gina comes and goes eight times, a batch each time; frank has hidden his panel.
      await frank.page.click('#members-toggle');
      await frank.page.locator('#members').waitFor({ state: 'hidden' });
      const frankReads = countReads(frank, 'general');
      const gina = await socketOf(world, 'gina');
      const readsBefore = aliceReads.length;
      const started = Date.now();
      await gina.evaluate(flicker, { channel: 'general', times: 8, gapMs: 350 });
      const took = Date.now() - started;
      await expectCount(alice, 5);
      await expectPanelAsRoute(alice, 'general', 'those left after gina');
      const read = aliceReads.length - readsBefore;
      const allowed = Math.ceil((Date.now() - started) / REREAD_MS) + 1;
      assert(read <= allowed, `alice's panel read the list ${read} times in ${took} ms of 16 batches (at most ${allowed})`);
      assert(read >= 1, 'alice\'s panel read the list again');
      assert(frankReads.length === 0, `frank's hidden panel read nothing (${frankReads.length} reads)`);
      await expectCount(frank, 5);

      // Shown again, it reads the list at once.
      await frank.page.click('#members-toggle');
      await expectPanelAsRoute(frank, 'general', 'those here');
      assert(frankReads.length >= 1, 'shown again, frank\'s panel read the list');
    },
  },
  {
    name: 'members: a page that joins a busy channel counts everyone at once from the join and reads its list page by page as it is scrolled; arrivals too many to name are counted and learned by reading the list again',
    env: { CHAT_JOINED_MEMBERS: '2', CHAT_PRESENCE_INTERVAL_MS: '1000' },
    async run(world) {
      const alice = await world.user('alice');
      await createOver(alice, 'lobby');
      await alice.openChannel('lobby');
      for (const name of ['bob', 'carol', 'dave']) {
        const chat = await world.user(name, { viewport: PHONE });
        await chat.openChannel('lobby');
      }
      await expectCount(alice, 4);

      const zoe = await world.user('zoe', { colorScheme: 'dark' });
      await recordHeader(zoe);
      await recordPresence(zoe);
      await zoe.page.reload();
      await zoe.ready();
      await zoe.openChannel('lobby');
      await expectCount(zoe, 5);
      const [fg, bg] = await zoe.page.locator('#channel-people').evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
      assert(contrast(fg, bg) >= 4.5, `the count is readable in dark mode (${contrast(fg, bg).toFixed(1)})`);
      const states = await zoe.page.evaluate(() => window.headerStates);
      const inLobby = states.filter((s) => s.title === '# lobby' && s.count !== null).map((s) => s.count);
      assert(inLobby.length && inLobby.every((c) => c === hereLabel(5)),
        `#lobby showed five from the start, never another count (${JSON.stringify(inLobby)})`);

      // The server named two of the five: zoe's panel reads pages of two, the
      // next one each time she scrolls to the end of the list (in a window
      // low enough for two rows to fill it).
      await until('zoe\'s first page', async () => namesOf(await rowsShown(zoe)) === 'alice,bob');
      await zoe.page.setViewportSize({ width: 1280, height: 200 });
      const scroller = zoe.page.locator('#members .members-scroll');
      const box = await scroller.boundingBox();
      await zoe.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      for (const shown of [4, 5]) {
        const before = (await rowsShown(zoe)).length;
        assert(await scroller.evaluate((el) => el.scrollHeight > el.clientHeight), `the list overflows its ${before} rows`);
        await scroller.evaluate((el) => { el.scrollTop = 0; });
        await new Promise((resolve) => { setTimeout(resolve, 300); });
        assert((await rowsShown(zoe)).length === before, `at the top of the list, no page is read (${before} before, ${(await rowsShown(zoe)).length} now)`);
        await zoe.page.mouse.wheel(0, 400);
        await until(`${shown} rows after scrolling to the end`, async () => (await rowsShown(zoe)).length === shown);
        await new Promise((resolve) => { setTimeout(resolve, 500); }); // the wheel's scrolling ends
      }
      assert(await zoe.page.locator('#members-more').isHidden(), 'no "Show more" once every page is in');
      await zoe.page.setViewportSize({ width: 1280, height: 800 });
      await expectPanelAsRoute(zoe, 'lobby', 'all five');
      assert(namesOf(await rowsShown(zoe)) === 'alice,bob,carol,dave,zoe', 'all five, by name');

      // Three arrive in one batch, which names two of them.
      const pages = await Promise.all(['erin', 'fred', 'gus'].map((name) => socketOf(world, name)));
      await Promise.all(pages.map((page) => page.evaluate(joinOverSocket, 'lobby')));
      await expectCount(zoe, 8);
      await expectCount(alice, 8);
      const frames = await zoe.page.evaluate(() => window.presenceFrames.filter((f) => f.channel === 'lobby'));
      const named = frames.flatMap((f) => f.joins || []);
      assert(frames.some((f) => f.more === true && f.count === 8), `a batch said more came than it named (${JSON.stringify(frames)})`);
      assert(!named.includes('gus'), 'gus was never named to zoe');
      const rows = await expectPanelAsRoute(zoe, 'lobby', 'all eight');
      assert(namesOf(rows) === 'alice,bob,carol,dave,erin,fred,gus,zoe', `all eight, gus too, by name (${namesOf(rows)})`);
      assert(rows.every((r) => r.online), 'each with a dot');

      // An older server tells one change at a time, without a count: the count still follows.
      await handFrame(zoe, { type: 'presence', channel: 'lobby', user: 'yann', event: 'join' });
      await expectCount(zoe, 9);
      await handFrame(zoe, { type: 'presence', channel: 'lobby', user: 'yann', event: 'leave' });
      await expectCount(zoe, 8);
    },
  },
];
