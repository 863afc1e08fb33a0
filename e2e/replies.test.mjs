// Replies: answering a message from the UI, the quoted original above a
// reply, and going to an original that is not loaded yet.

import { assert, until } from './client.mjs';

/** The quote above the reply `text` in `chat`'s view, as "author: first line". */
async function quoteAbove(chat, text) {
  const quote = chat.messages(text).locator('.msg-quote');
  await until(`${chat.name} to see the quote above ${JSON.stringify(text)}`, async () =>
    (await quote.count()) === 1 && !/Loading/.test(await quote.textContent()));
  const author = await quote.locator('.quote-author').textContent();
  const line = await quote.locator('.quote-text').textContent();
  return `${author}: ${line}`;
}

export const tests = [
  {
    name: 'replying from a message shows the quoted original above the reply for everyone',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      await alice.send('lunch at noon?');
      const original = bob.messages('lunch at noon?');
      await original.hover();
      await original.getByRole('button', { name: 'Reply to alice' }).click();
      const bar = bob.page.locator('#reply-bar');
      await bar.waitFor();
      assert((await bar.textContent()).includes('alice: lunch at noon?'), 'the bar names what is answered');
      // Escape cancels; the reply action starts it again.
      await bob.page.locator('#composer-input').press('Escape');
      await bar.waitFor({ state: 'hidden' });
      await original.hover();
      await original.getByRole('button', { name: 'Reply to alice' }).click();
      await bob.page.locator('#composer-input').fill('yes, see you there');
      await bob.page.locator('#composer-input').press('Enter');
      await bar.waitFor({ state: 'hidden' });
      for (const who of [alice, bob]) {
        await who.expectMessage('yes, see you there', { from: 'bob' });
        const quote = await quoteAbove(who, 'yes, see you there');
        assert(quote === 'alice: lunch at noon?', `${who.name} sees the quote ${JSON.stringify(quote)}`);
      }
      // After a reload the reply comes from history with its quote.
      await alice.page.reload();
      await alice.ready();
      await alice.expectMessage('yes, see you there', { from: 'bob' });
      assert(await quoteAbove(alice, 'yes, see you there') === 'alice: lunch at noon?', 'history keeps the quote');
    },
  },
  {
    name: 'clicking the quote of a reply to an old message loads older history and goes to the original',
    async run(world) {
      const [originalId] = await world.post('dave', 'general', ['the original question\nwith a second line']);
      const filler = Array.from({ length: 70 }, (_, i) => `filler ${String(i + 1).padStart(2, '0')}`);
      await world.post('erin', 'general', [...filler, { text: 'answering the old question', reply_to: originalId }]);
      const bob = await world.user('bob');
      await bob.expectMessage('answering the old question', { from: 'erin' });
      assert(!(await bob.messages('the original question\nwith a second line').count()), 'the original is not loaded yet');
      const quote = await quoteAbove(bob, 'answering the old question');
      assert(quote === 'dave: the original question', `the quote (fetched on its own) shows ${JSON.stringify(quote)}`);

      await bob.messages('answering the old question').locator('.msg-quote').click();
      await bob.expectGoneTo(originalId);
    },
  },
];
