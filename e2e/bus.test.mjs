// Posts that come from the bus rather than from a person: an operator's
// announcement and a system notice, shown apart from people and the bot.
// These tests run against a server on NATS (`bus: true`), and share its
// database: each registers names of its own.

import { assert } from './client.mjs';

const ANNOUNCEMENT = 'Maintenance at 18:00 UTC <img src=x onerror=alert(1)>';
const NOTICE = 'Restarting in 5 minutes';

/** The background color a row is drawn with. */
const background = (row) => row.evaluate((li) => getComputedStyle(li).backgroundColor);

export const tests = [
  {
    name: 'an operator post and a system notice from the bus are shown as such, apart from people and the bot',
    bus: true,
    async run(world) {
      const dana = await world.user('dana');
      await dana.send('a person speaking');
      const person = await dana.expectMessage('a person speaking', { from: 'dana' });

      await world.operatorPost('general', { user: 'ops', text: ANNOUNCEMENT });
      // Claiming to be dana, without a server's signature: still an operator's post.
      await world.operatorPost('general', { user: 'dana', text: 'I am dana, honestly' });
      await world.operatorPost('general', { user: 'system', text: NOTICE, kind: 'system' });

      const announcement = await dana.expectMessage(ANNOUNCEMENT, { from: 'ops' });
      const impostor = await dana.expectMessage('I am dana, honestly', { from: 'dana' });
      const notice = await dana.expectMessage(NOTICE, { from: 'system' });
      for (const [row, kind, badge] of [
        [announcement, 'operator', 'OPERATOR'], [impostor, 'operator', 'OPERATOR'], [notice, 'system', 'SYSTEM'],
      ]) {
        const classes = await row.evaluate((li) => [...li.classList]);
        assert(classes.includes('is-notice') && classes.includes(`is-${kind}`), `marked as ${kind}: ${classes}`);
        assert(!classes.includes('is-bot') && !classes.includes('is-mine'), `not a bot's or dana's: ${classes}`);
        assert((await row.locator('.notice-badge').textContent()) === badge, `badge ${badge}`);
        assert(await row.locator('.notice-badge').isVisible(), 'the badge shows');
      }
      assert(await background(announcement) !== await background(person), 'drawn apart from a person\'s message');
      assert(await dana.page.locator('#message-list img').count() === 0, 'the markup is shown as text');
    },
  },
];
