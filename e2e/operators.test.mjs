// What operators do from outside the chat (`chat.admin.*` requests on NATS)
// as a person sees it: a notice shown apart from the messages, and a closed
// channel whose composer is disabled until it is reopened. These tests run
// against a server on NATS (`bus: true`) and share its database: each uses
// names of its own.

import { assert, until } from './client.mjs';

const suffix = () => Math.random().toString(36).slice(2, 8);

export const tests = [
  {
    name: 'an operator notice shows as a dismissible banner, apart from the messages',
    bus: true,
    async run(world) {
      const olga = await world.user(`olga_${suffix()}`);
      const { page } = olga;
      const before = `before the notice ${suffix()}`;
      await olga.send(before);
      await olga.expectMessage(before);

      const text = `Maintenance at 22:00 UTC <b>${suffix()}</b>`;
      const answer = await world.admin('notice', { text });
      assert(answer.sent === true && answer.channel === null, `answered ${JSON.stringify(answer)}`);
      const banner = page.locator('#notices .op-notice');
      await until('the notice to show', async () => (await banner.count()) === 1 && banner.isVisible());
      assert((await banner.locator('.op-notice-text').textContent()) === text, 'its text, as text');
      assert(await banner.locator('.op-notice-icon').isVisible(), 'with its icon');
      assert(await page.locator('#message-list').getByText(text).count() === 0, 'not among the messages');
      const colors = (el) => el.evaluate((e) => getComputedStyle(e).backgroundColor);
      const row = page.locator('#message-list .msg').last();
      assert(await colors(banner) !== await colors(row), 'drawn apart from a message');

      await banner.locator('.op-notice-dismiss').click();
      await until('the notice to go', async () => (await banner.count()) === 0);
      assert(await page.locator('#notices').isHidden(), 'the strip is gone once dismissed');
    },
  },
  {
    name: 'a channel closed by an operator disables the composer and is tagged in the list, and reopening undoes both live',
    bus: true,
    async run(world) {
      const channel = `desk-${suffix()}`;
      const pat = await world.user(`pat_${suffix()}`);
      const { page } = pat;
      await pat.createChannel(channel);
      await until(`#${channel} to open`, async () => (await page.textContent('#channel-title')) === `# ${channel}`);
      await until(`#${channel} to load`, async () => (await page.textContent('#history-status')) !== 'Loading messages…');
      await pat.send('open for business');
      await pat.expectMessage('open for business');
      const input = page.locator('#composer-input');
      const closedLine = page.locator('#composer-closed');
      assert(await closedLine.isHidden(), 'no closed line while open');
      const button = page.locator('#channel-list .channel-btn', { hasText: channel });
      const tag = button.locator('.closed-tag');
      assert(await tag.isHidden(), 'no closed tag in the list while open');

      const closed = await world.admin('close', { channel });
      assert(closed.closed === true, `answered ${JSON.stringify(closed)}`);
      await until('the composer to be disabled', () => input.isDisabled());
      assert(await closedLine.isVisible(), 'the closed line shows');
      assert((await closedLine.textContent()).includes('This channel is closed by an operator'), 'and says why');
      await pat.expectMessage('open for business');
      await until('the list to tag the channel closed', () => tag.isVisible());
      assert((await button.getAttribute('aria-label')).includes('closed'), 'and its label says so');
      const general = page.locator('#channel-list .channel-btn', { hasText: 'general' });
      assert(await general.locator('.closed-tag').isHidden(), '#general is not tagged');

      // Another channel is not closed.
      await pat.openChannel('general');
      await until('the composer to be enabled in #general', async () => !(await input.isDisabled()));
      assert(await closedLine.isHidden(), 'no closed line in #general');
      await pat.openChannel(channel);
      await until('the composer to be disabled again', () => input.isDisabled());

      const reopened = await world.admin('reopen', { channel });
      assert(reopened.closed === false, `answered ${JSON.stringify(reopened)}`);
      await until('the composer to be enabled', async () => !(await input.isDisabled()));
      assert(await closedLine.isHidden(), 'the closed line goes');
      await until('the closed tag to go from the list', () => tag.isHidden());
      assert(!(await button.getAttribute('aria-label')).includes('closed'), 'and from its label');
      await pat.send('back in business');
      await pat.expectMessage('back in business');
    },
  },
];
