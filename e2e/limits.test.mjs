// Abuse limits as a person meets them: a sign-up over the hourly limit says
// why on the form, and a channel list longer than one page shows in full.

import { assert, until } from './client.mjs';

export const tests = [
  {
    name: 'a sign-up over the hourly limit for an address is refused with the reason on the form',
    env: { CHAT_SIGNUPS_PER_HOUR: '2' },
    async run(world) {
      await world.account('alice');
      await world.account('bob');
      const carol = await world.visitor('carol');
      world.guard.expectHttpError(carol.page, 'POST', '/api/register', 429);
      await carol.page.click('#auth-tab-register');
      await carol.page.fill('#auth-username', 'carol');
      await carol.page.fill('#auth-password', 'correct horse battery');
      await carol.page.click('#auth-submit');
      const error = carol.page.locator('#auth-error');
      await until('the sign-up limit error', async () => /too many new accounts/i.test(await error.textContent()));
      assert(/\d+ seconds/.test(await error.textContent()), `it says when to try again: ${await error.textContent()}`);
      assert(await carol.page.locator('#auth-form').isVisible(), 'carol stays on the sign-up form');
    },
  },
  {
    name: 'with more channels than one page of the list, every one shows and opens',
    async run(world) {
      const maker = await world.user('maker');
      const names = Array.from({ length: 120 }, (_, i) => `room-${String(i).padStart(3, '0')}`);
      for (const name of names) {
        const res = await maker.context.request.post('/api/channels', { data: { name } });
        assert(res.status() === 201, `creating #${name} answered ${res.status()}`);
      }
      const reader = await world.user('reader');
      const listed = reader.page.locator('#channel-list .channel-name');
      await until('all 121 channels in the list', async () => (await listed.count()) === 121);
      assert((await listed.last().textContent()) === 'room-119', 'the last page is there');
      await reader.openChannel('room-119');
      await until('#room-119 open', async () => (await reader.page.textContent('#channel-title')) === '# room-119');
    },
  },
];
