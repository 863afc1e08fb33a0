// Chatting: registering, channels, both directions, presence, typing, the
// stock bot, refused actions and markup shown as text.

import { assert, until, PASSWORD } from './client.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const QUOTE = 'AAPL.US quote is $93.42 per share';

export const tests = [
  {
    name: 'two people register, create a channel and chat both ways with presence and typing',
    async run(world) {
      const alice = await world.visitor('alice');
      await alice.register();
      const bob = await world.visitor('bob');
      await bob.register();

      await until('alice to see bob in #general', async () => (await alice.memberNames()).includes('bob'));
      assert((await bob.memberNames()).includes('alice'), 'bob sees alice in #general');

      await alice.createChannel('random');
      await until('alice to be in #random', async () => (await alice.page.textContent('#channel-title')) === '# random');
      await bob.page.locator('#channel-list .channel-name', { hasText: /^random$/ }).waitFor();
      await bob.openChannel('random');
      await until('alice to see bob join #random', async () =>
        (await alice.memberNames()).join(',') === 'alice,bob');

      await alice.send('hi bob, welcome to #random');
      await bob.expectMessage('hi bob, welcome to #random', { from: 'alice' });
      await alice.expectMessage('hi bob, welcome to #random', { from: 'alice' });

      await bob.page.locator('#composer-input').pressSequentially('thanks');
      await until('alice to see bob typing', async () => (await alice.typingText()) === 'bob is typing…');
      await bob.page.locator('#composer-input').fill('thanks alice!');
      await bob.page.locator('#composer-input').press('Enter');
      await alice.expectMessage('thanks alice!', { from: 'bob' });
      await bob.expectMessage('thanks alice!', { from: 'bob' });
      assert((await alice.typingText()) === '', 'the typing line clears when bob\'s message arrives');

      // A message in another channel shows as unread there.
      await bob.openChannel('general');
      await bob.send('over here');
      const badge = alice.page.locator('#channel-list .channel-btn.has-unread .unread-badge');
      await until('alice to see 1 unread in #general', async () => (await badge.textContent()) === '1');

      await bob.page.close();
      await until('alice to see bob leave #random', async () => (await alice.memberNames()).join(',') === 'alice');
    },
  },
  {
    name: 'a wrong password, a taken or reserved name and an existing channel are refused with a clear message; logging out sticks',
    async run(world) {
      await world.account('carol');
      const visitor = await world.visitor('carol');
      world.guard.expectHttpError(visitor.page, 'POST', '/api/login', 401);
      await visitor.page.fill('#auth-username', 'carol');
      await visitor.page.fill('#auth-password', 'not her password');
      await visitor.page.click('#auth-submit');
      const error = visitor.page.locator('#auth-error');
      await error.waitFor();
      assert(/password|credentials/i.test(await error.textContent()), `login error says why: ${await error.textContent()}`);

      world.guard.expectHttpError(visitor.page, 'POST', '/api/register', 409);
      await visitor.page.click('#auth-tab-register');
      await visitor.page.fill('#auth-password', 'another password');
      await visitor.page.click('#auth-submit');
      await until('the taken-name error', async () => /taken/i.test(await error.textContent()));

      world.guard.expectHttpError(visitor.page, 'POST', '/api/register', 409);
      await visitor.page.fill('#auth-username', 'StockBot');
      await visitor.page.click('#auth-submit');
      await until('the reserved-name error', async () => /reserved/i.test(await error.textContent()));
      await visitor.page.fill('#auth-username', 'carol');

      await visitor.login();
      world.guard.expectHttpError(visitor.page, 'POST', '/api/channels', 409);
      await visitor.createChannel('general');
      const channelError = visitor.page.locator('#channel-error');
      await channelError.waitFor();
      assert(/exists/i.test(await channelError.textContent()), `channel error says why: ${await channelError.textContent()}`);

      // Logging out ends the session: a reload shows the login screen again.
      await visitor.page.click('#logout');
      await visitor.page.locator('#auth-form').waitFor();
      world.guard.expectHttpError(visitor.page, 'GET', '/api/me', 401);
      await visitor.page.reload();
      await visitor.page.locator('#auth-form').waitFor();
    },
  },
  {
    name: 'log out everywhere signs the account out in every browser; a login can end the other sessions',
    async run(world) {
      const laptop = await world.user('dave');
      const phone = await world.visitor('dave');
      await phone.login();

      world.guard.expectHttpError(phone.page, 'GET', '/api/me', 401);
      await laptop.page.click('#logout-everywhere');
      await laptop.page.locator('#auth-form').waitFor();
      await phone.page.locator('#auth-form').waitFor();
      assert(/every device/.test(await laptop.page.textContent('#auth-error')), 'the laptop says it logged out everywhere');

      // Back in on the phone; then on the laptop, ticking "log out my other sessions".
      await phone.login();
      world.guard.expectHttpError(phone.page, 'GET', '/api/me', 401);
      assert(await laptop.page.locator('#auth-end-others').isVisible(), 'the login form offers to end other sessions');
      await laptop.page.fill('#auth-username', 'dave');
      await laptop.page.fill('#auth-password', PASSWORD);
      await laptop.page.check('#auth-end-others');
      await laptop.page.click('#auth-submit');
      await laptop.ready();
      await phone.page.locator('#auth-form').waitFor();
      await laptop.send('only the laptop is signed in now');
      await laptop.expectMessage('only the laptop is signed in now', { from: 'dave' });

      await laptop.page.click('#logout');
      await laptop.page.click('#auth-tab-register');
      assert(!(await laptop.page.locator('#auth-end-others').isVisible()), 'the choice is not offered when registering');
    },
  },
  {
    name: '/stock=aapl.us gets the bot\'s quote in the room',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const input = alice.page.locator('#composer-input');
      await input.pressSequentially('/st');
      await alice.page.locator('#command-hints .hint-name', { hasText: '/stock=CODE' }).waitFor();
      await input.fill('/stock=aapl.us');
      await input.press('Enter');
      for (const who of [alice, bob]) {
        await who.expectMessage('/stock=aapl.us', { from: 'alice' });
        const reply = await who.expectMessage(QUOTE, { from: 'stockbot' });
        assert(await reply.evaluate((li) => li.classList.contains('is-bot')), 'the reply is marked as a bot message');
      }
      assert(await bob.page.locator('#message-list .bot-badge', { hasText: 'BOT' }).isVisible(), 'the bot badge shows');
    },
  },
  {
    name: 'markup in a message shows as text and runs nothing',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      await alice.send(XSS);
      await bob.expectMessage(XSS, { from: 'alice' });
      await alice.expectMessage(XSS, { from: 'alice' });
      // A later message arriving means the markup had its chance to run.
      await bob.send('did anything pop up?');
      await alice.expectMessage('did anything pop up?');
      const carol = await world.user('carol');
      await carol.expectMessage(XSS, { from: 'alice' });
      for (const who of [alice, bob, carol]) {
        const images = await who.page.locator('#message-list img').count();
        assert(images === 0, `${who.name}'s message list has ${images} <img> elements`);
      }
    },
  },
];
