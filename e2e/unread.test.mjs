// Read markers and mentions: unread badges that follow a person across
// devices and reloads, the mention badge and the highlighted mention, and
// the "New messages" line above what came while one was away. The test on the bus
// shares its database with the others there: it has names of its own.

import { ChatPage, DESKTOP, assert, until } from './client.mjs';

/** The channel button of `name` in `chat`'s channel list. */
const channelButton = (chat, name) => chat.page.locator('#channel-list .channel-btn', {
  has: chat.page.locator('.channel-name', { hasText: new RegExp(`^${name}$`) }),
});

/** The badges `chat` shows on channel `name`: the unread count and the mention count, '' when hidden. */
function badgesOf(chat, name) {
  return channelButton(chat, name).evaluate((button) => {
    const shown = (el) => (el && !el.hidden ? el.textContent : '');
    return { unread: shown(button.querySelector('.unread-badge')), mentions: shown(button.querySelector('.mention-badge')) };
  });
}

/** Waits until `chat` shows `want` ({unread, mentions}) on channel `name`. */
async function expectBadges(chat, name, want, why = '') {
  let seen = null;
  await until(`${chat.name} to show ${JSON.stringify(want)} on #${name}${why ? ` (${why})` : ''}`, async () => {
    seen = await badgesOf(chat, name);
    return seen.unread === want.unread && seen.mentions === want.mentions;
  }).catch((err) => {
    throw new Error(`${err.message}; it shows ${JSON.stringify(seen)}`);
  });
}

/** Creates channel `name` as `chat` over HTTP. */
async function createChannel(chat, name) {
  const res = await chat.context.request.post('/api/channels', { data: { name } });
  assert(res.status() === 201, `create #${name} answered ${res.status()}`);
}

/** Sends `text` as `chat` and returns its id once the server has it. */
async function sent(chat, text) {
  await chat.send(text);
  const row = await chat.expectMessage(text, { from: chat.name });
  return row.getAttribute('data-id');
}

/** Waits until the server keeps `chat`'s person as having read `channel` up to message `id`. */
async function readUpTo(chat, channel, id) {
  await until(`${chat.name}'s read marker in #${channel} to reach ${id}`, async () => {
    const res = await chat.context.request.get('/api/channels');
    const { channels } = await res.json();
    return channels.find((ch) => ch.name === channel)?.last_read === id;
  });
}

/**
 * `reader` has two devices in #general; both go to channel `away` while
 * `writer` posts three messages in #general: both count them, and reading
 * #general on one clears the count on the other.
 */
async function acrossDevices(world, { writer, reader, away }) {
  const alice = await world.user(writer);
  const bob = await world.user(reader);
  const bobsOther = await world.sameUser(bob, { viewport: DESKTOP, colorScheme: 'dark' });
  await createChannel(alice, away);
  for (const page of [bob, bobsOther]) await page.openChannel(away);

  for (const text of ['one', 'two', 'three']) await sent(alice, text);
  for (const page of [bob, bobsOther]) await expectBadges(page, 'general', { unread: '3', mentions: '' });
  assert(/general, 3 unread/.test(await channelButton(bob, 'general').getAttribute('aria-label')), 'the button says so');

  await bob.openChannel('general');
  await bob.expectMessage('three', { from: writer });
  await expectBadges(bob, 'general', { unread: '', mentions: '' }, 'open');
  await expectBadges(bobsOther, 'general', { unread: '', mentions: '' }, 'read on the other device');
  assert((await bobsOther.page.textContent('#channel-title')) === `# ${away}`, 'the other device stays where it was');
}

export const tests = [
  {
    name: 'unread counts reach every device of a person, and reading on one clears the badge on the others live',
    run: (world) => acrossDevices(world, { writer: 'alice', reader: 'bob', away: 'random' }),
  },
  {
    name: 'on the bus, reading on one device clears the badge on the person\'s other device live',
    bus: true,
    run: (world) => acrossDevices(world, { writer: 'gina', reader: 'hank', away: 'hank-elsewhere' }),
  },
  {
    name: 'a mention shows as a mention badge on its channel and, opened, as a highlighted row with the name marked',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      // A browser without notifications: none are offered, and nothing breaks when a mention comes.
      await bob.page.addInitScript(() => { delete window.Notification; });
      await bob.page.reload();
      await bob.ready();
      assert(!(await bob.page.locator('#notify-enable').isVisible()), 'no "Enable notifications" without the Notification API');
      await createChannel(alice, 'random');
      await bob.openChannel('random');

      await sent(alice, '@bob look');
      await expectBadges(bob, 'general', { unread: '1', mentions: '@1' });
      await alice.send('the `@bob` in code is just text');
      await alice.expectMessage('the @bob in code is just text', { from: 'alice' });
      await expectBadges(bob, 'general', { unread: '2', mentions: '@2' });

      await bob.openChannel('general');
      await expectBadges(bob, 'general', { unread: '', mentions: '' }, 'open');
      const row = await bob.expectMessage('@bob look', { from: 'alice' });
      assert((await row.getAttribute('class')).includes('is-mention'), 'the row mentioning bob is highlighted');
      const chip = row.locator('.msg-text .mention');
      assert(await chip.count() === 1 && (await chip.textContent()) === '@bob', 'the name is a mention chip');
      assert((await chip.getAttribute('class')).split(' ').includes('mention-me'), 'marked as bob\'s');
      const inCode = bob.messages('the @bob in code is just text');
      assert((await inCode.locator('code').textContent()) === '@bob', 'code keeps the name as written');
      assert(!(await inCode.locator('.mention').count()), 'no mention chip inside code');

      // To alice, the same message names someone else.
      const hers = await alice.expectMessage('@bob look', { from: 'alice' });
      assert(!(await hers.getAttribute('class')).includes('is-mention'), 'alice\'s own row is not highlighted');
      assert(await hers.locator('.mention').count() === 1 && !(await hers.locator('.mention-me').count()), 'alice sees a mention of bob, not of her');
    },
  },
  {
    name: 'a page opened after being away shows the "New messages" line right above the first message that came meanwhile',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      for (const text of ['before one', 'before two']) await sent(alice, text);
      const last = await (await bob.expectMessage('before two', { from: 'alice' })).getAttribute('data-id');
      await readUpTo(bob, 'general', last);
      assert(!(await bob.page.locator('.unread-divider').count()), 'nothing new: no line');
      await bob.page.close();

      const first = await sent(alice, 'news one');
      await sent(alice, 'news two');
      const page = await world.newPage(bob.context, 'bob again');
      await page.goto('/');
      const again = new ChatPage(world, bob.context, page, 'bob');
      await again.ready();
      await again.expectMessage('news two', { from: 'alice' });
      const line = page.locator('#message-list .unread-divider');
      await line.waitFor();
      assert(await line.count() === 1, 'one line');
      assert((await line.innerText()).trim().toLowerCase() === 'new messages', `the line says "New messages": ${await line.innerText()}`);
      const below = await line.evaluate((el) => el.nextElementSibling?.getAttribute('data-id'));
      assert(below === first, `the line sits right above "news one" (${first}), not above ${below}`);
      assert(await line.evaluate((el) => {
        const view = document.getElementById('message-scroller').getBoundingClientRect();
        const box = el.getBoundingClientRect();
        return box.top >= view.top && box.bottom <= view.bottom;
      }), 'the line is in view');
      assert(!(await page.locator('#new-pill').isVisible()), 'the "New messages ↓" pill is not shown: nothing below is unseen');
      await expectBadges(again, 'general', { unread: '', mentions: '' }, 'open');

      // Writing means having caught up: the line goes.
      await again.send('back now');
      await again.expectMessage('back now', { from: 'bob' });
      await line.waitFor({ state: 'detached' });
    },
  },
  {
    name: 'after a reload the channel list\'s counts show as badges, with no live message',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      await createChannel(alice, 'random');
      const seen = await sent(alice, 'hello');
      await bob.expectMessage('hello', { from: 'alice' });
      await readUpTo(bob, 'general', seen);
      await bob.openChannel('random');
      await sent(alice, 'are you there?');
      await sent(alice, 'hey @bob');
      await expectBadges(bob, 'general', { unread: '2', mentions: '@1' }, 'live');

      await bob.page.reload();
      await bob.ready();
      assert((await bob.page.textContent('#channel-title')) === '# random', 'the reload stays in #random');
      await expectBadges(bob, 'general', { unread: '2', mentions: '@1' }, 'from GET /api/channels');
      await expectBadges(bob, 'random', { unread: '', mentions: '' });

      await bob.openChannel('general');
      await expectBadges(bob, 'general', { unread: '', mentions: '' }, 'open');
      const line = bob.page.locator('#message-list .unread-divider');
      await line.waitFor();
      const below = await line.evaluate((el) => el.nextElementSibling?.textContent || '');
      assert(below.includes('are you there?'), `the line sits above the first unread message: ${below}`);
      await readUpTo(bob, 'general', await (await bob.expectMessage('hey @bob', { from: 'alice' })).getAttribute('data-id'));
    },
  },
  {
    name: 'an edit that names you raises the mention badge once and highlights the row; one that drops your name unmarks it, after a reload too',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      await createChannel(alice, 'random');
      await createChannel(alice, 'den');
      await bob.openChannel('random');
      const id = await sent(alice, 'lunch anyone?');
      await expectBadges(bob, 'general', { unread: '1', mentions: '' });

      /** Edits alice's message `id` (in the channel she has open) to `text` from the UI. */
      const edit = async (messageId, text) => {
        const row = alice.page.locator(`#message-list li.msg[data-id="${messageId}"]`);
        await row.hover();
        await row.getByRole('button', { name: 'Edit your message', exact: true }).click();
        await alice.page.locator('#edit-bar').waitFor();
        await alice.page.locator('#composer-input').fill(text);
        await alice.page.locator('#composer-input').press('Enter');
        await alice.page.locator('#edit-bar').waitFor({ state: 'hidden' });
        await until(`alice to see ${JSON.stringify(text)}`, async () => (await row.locator('.msg-text').innerText()) === text);
      };
      await edit(id, '@bob lunch anyone?');
      await expectBadges(bob, 'general', { unread: '1', mentions: '@1' }, 'the edit names bob');
      await edit(id, '@bob lunch anyone? at one');
      await new Promise((resolve) => { setTimeout(resolve, 700); });
      await expectBadges(bob, 'general', { unread: '1', mentions: '@1' }, 'still naming him: counted once');

      await bob.openChannel('general');
      const row = bob.page.locator(`#message-list li.msg[data-id="${id}"]`);
      await until('bob to see the edited text', async () => (await row.locator('.msg-text').innerText()) === '@bob lunch anyone? at one');
      assert((await row.getAttribute('class')).includes('is-mention'), 'the row is highlighted');
      assert(await row.locator('.msg-text .mention-me').count() === 1, 'his name is marked as his');

      await edit(id, 'lunch anyone? at one');
      await until('the highlight to go', async () => !(await row.getAttribute('class')).includes('is-mention'));
      await bob.page.reload();
      await bob.ready();
      await bob.expectMessage('lunch anyone? at one', { from: 'alice' });
      assert(!(await row.getAttribute('class')).includes('is-mention'), 'history has the edit\'s mentions: none');

      // In a channel bob has not opened, the edit's mention is a mention, not another unread message.
      await alice.openChannel('den');
      const inDen = await sent(alice, 'anyone around?');
      await edit(inDen, 'anyone around? @bob');
      await expectBadges(bob, 'den', { unread: '', mentions: '@1' }, 'a mention of an edited message not opened');
    },
  },
];
