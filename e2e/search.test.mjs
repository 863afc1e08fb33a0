// Search: the box in the top bar, results with their channel, author, time
// and the words marked, and a click that opens the message in its channel.

import { assert, until } from './client.mjs';

export const tests = [
  {
    name: 'searching finds whole words in any order across channels, and a result opens the message in context',
    async run(world) {
      const [oldId] = await world.post('dave', 'general', ['The quarterly REPORT is ready, see page 4']);
      const filler = Array.from({ length: 70 }, (_, i) => `filler ${String(i + 1).padStart(2, '0')}`);
      await world.post('erin', 'general', [...filler, 'reporting quarterly numbers soon']);
      const bob = await world.user('bob');
      await bob.createChannel('random');
      // What is typed goes to the open channel: wait until #random is it.
      await until('bob to be in #random', async () => (await bob.page.textContent('#channel-title')) === '# random');
      await bob.send('a report, quarterly as always');
      await bob.expectMessage('a report, quarterly as always', { from: 'bob' });

      await bob.page.fill('#search-input', 'report Quarterly');
      await bob.page.press('#search-input', 'Enter');
      const hits = bob.page.locator('#search-results .search-hit');
      await until('two results', async () => (await hits.count()) === 2);
      const first = await hits.nth(0).innerText();
      const second = await hits.nth(1).innerText();
      assert(first.includes('#random') && first.includes('bob') && first.includes('a report, quarterly as always'),
        `the newest first, with its channel and author: ${first}`);
      assert(second.includes('#general') && second.includes('dave'), `then the older one: ${second}`);
      const marks = await hits.nth(1).locator('mark').allTextContents();
      assert(marks.join(',') === 'quarterly,REPORT', `the words are marked: ${marks}`);
      assert(!(await bob.page.locator('#search-results', { hasText: 'reporting' }).count()), 'whole words only');

      await hits.nth(1).click();
      await bob.page.locator('#search-panel').waitFor({ state: 'hidden' });
      await until('#general to be open', async () => (await bob.page.textContent('#channel-title')) === '# general');
      await bob.expectGoneTo(oldId);

      await bob.page.fill('#search-input', 'nothing like this');
      await bob.page.press('#search-input', 'Enter');
      await until('no results said', async () =>
        (await bob.page.textContent('#search-status')) === 'No messages match “nothing like this”.');
      await bob.page.press('#search-input', 'Escape');
      await bob.page.locator('#search-panel').waitFor({ state: 'hidden' });
    },
  },
];
