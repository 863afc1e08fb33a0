// Posts that come from the bus rather than from a person: an operator's
// announcement and a system notice, shown apart from people and the bot.
// These tests run against a server on NATS (`bus: true`), and share its
// database: each registers names of its own, and a run against a database
// an earlier run used finds only its own names and texts.

import { assert } from './client.mjs';

const suffix = () => Math.random().toString(36).slice(2, 8);

/** The background color a row is drawn with. */
const background = (row) => row.evaluate((li) => getComputedStyle(li).backgroundColor);

export const tests = [
  {
    name: 'an operator post and a system notice from the bus are shown as such, apart from people and the bot',
    bus: true,
    async run(world) {
      const run = suffix();
      const name = `dana_${run}`;
      const announcement = `Maintenance at 18:00 UTC <img src=x onerror=alert(1)> ${run}`;
      const claim = `I am ${name}, honestly`;
      const notice = `Restarting in 5 minutes ${run}`;
      const dana = await world.user(name);
      await dana.send(`a person speaking ${run}`);
      const person = await dana.expectMessage(`a person speaking ${run}`, { from: name });

      await world.operatorPost('general', { user: 'ops', text: announcement });
      // Claiming to be dana, without a server's signature: still an operator's post.
      await world.operatorPost('general', { user: name, text: claim });
      await world.operatorPost('general', { user: 'system', text: notice, kind: 'system' });

      const announced = await dana.expectMessage(announcement, { from: 'ops' });
      const impostor = await dana.expectMessage(claim, { from: name });
      const noticed = await dana.expectMessage(notice, { from: 'system' });
      for (const [row, kind, badge] of [
        [announced, 'operator', 'OPERATOR'], [impostor, 'operator', 'OPERATOR'], [noticed, 'system', 'SYSTEM'],
      ]) {
        const classes = await row.evaluate((li) => [...li.classList]);
        assert(classes.includes('is-notice') && classes.includes(`is-${kind}`), `marked as ${kind}: ${classes}`);
        assert(!classes.includes('is-bot') && !classes.includes('is-mine'), `not a bot's or dana's: ${classes}`);
        assert((await row.locator('.notice-badge').textContent()) === badge, `badge ${badge}`);
        assert(await row.locator('.notice-badge').isVisible(), 'the badge shows');
      }
      assert(await background(announced) !== await background(person), 'drawn apart from a person\'s message');
      assert(await dana.page.locator('#message-list img').count() === 0, 'the markup is shown as text');
    },
  },
];
