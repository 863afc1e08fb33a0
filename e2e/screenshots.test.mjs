// Screenshots of a realistic conversation: desktop and 375 px, light and dark
// (docs/screenshots/ with UPDATE_SCREENSHOTS=1, see run.mjs).

import fs from 'node:fs';
import path from 'node:path';

import { DESKTOP, PHONE, assert, until } from './client.mjs';

const SHOTS = [
  { file: 'desktop-light.png', viewport: DESKTOP, colorScheme: 'light' },
  { file: 'desktop-dark.png', viewport: DESKTOP, colorScheme: 'dark' },
  { file: 'phone-light.png', viewport: PHONE, colorScheme: 'light' },
  { file: 'phone-dark.png', viewport: PHONE, colorScheme: 'dark' },
];

export const tests = [
  {
    name: 'screenshots: desktop and phone, light and dark',
    async run(world, config) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const carol = await world.user('carol');
      for (const name of ['design', 'random']) {
        const res = await alice.context.request.post('/api/channels', { data: { name } });
        assert(res.status() === 201, `create #${name} answered ${res.status()}`);
      }
      const viewers = [];
      for (const shot of SHOTS) {
        const chat = await world.sameUser(alice, shot);
        await chat.openChannel('random'); // so that the tab follows #random and counts its unread messages
        await chat.openChannel('general');
        viewers.push({ shot, chat });
      }

      const say = async (who, text, from = who.name) => {
        await who.send(text);
        for (const { chat } of viewers) await chat.expectMessage(text, { from });
      };
      await say(bob, 'Morning! Did the launch numbers come in?');
      await say(carol, 'They did: sign-ups are up 40% on last week.');
      await say(carol, 'The full report is at https://example.com/reports/launch');
      await say(alice, 'Great work, everyone. Let\'s see how the market took it.');
      await say(alice, '/stock=aapl.us');
      for (const { chat } of viewers) await chat.expectMessage('AAPL.US quote is $93.42 per share', { from: 'stockbot' });
      await say(bob, 'Not bad at all. Lunch at noon to celebrate?');

      await bob.openChannel('random');
      await bob.send('Anyone up for a board game night on Friday?');
      for (const { chat } of viewers) {
        await until('the unread badge on #random', async () =>
          (await chat.page.locator('#channel-list .has-unread .unread-badge').textContent().catch(() => '')) === '1');
      }

      fs.mkdirSync(config.screenshots, { recursive: true });
      const input = carol.page.locator('#composer-input');
      for (const { shot, chat } of viewers) {
        // Carol keeps typing (the page sends a notice at most every 2 s) until this viewer shows it.
        await until(`"carol is typing…" for ${shot.file}`, async () => {
          if ((await chat.typingText()) === 'carol is typing…') return true;
          await input.press('s');
          return false;
        });
        assert(await chat.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
          `${shot.file}: nothing is wider than the screen`);
        await chat.screenshot(path.join(config.screenshots, shot.file));
      }
    },
  },
];
