// Formatting in message text: bold, italic, code, code blocks and links are
// shown as such; anything else, markup included, is shown as written.

import { assert, until } from './client.mjs';

const FORMATTED = [
  '**bold** _it_ `code **not bold**` a_b_c see https://example.com/docs?q=1. or javascript:alert(1)',
  '```js',
  'let **x** = _y_; // https://example.com/in-code',
  '```',
  'after the block',
].join('\n');
const MARKUP = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';

/** The row of the message whose text contains `part`, once `chat` shows it sent. */
async function rowWith(chat, part) {
  const row = chat.page.locator('#message-list li.msg:not(.is-pending)', {
    has: chat.page.locator('.msg-text', { hasText: part }),
  });
  await until(`${chat.name} to see the message with ${JSON.stringify(part)}`, async () => (await row.count()) === 1);
  return row;
}

export const tests = [
  {
    name: 'bold, italic, code, code blocks and links are formatted; a script link and markup stay text',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      await alice.send(FORMATTED);
      await alice.send(MARKUP);
      await alice.send('one line\nand the next');
      for (const who of [bob, alice]) {
        const text = (await rowWith(who, 'a_b_c')).locator('.msg-text');
        const all = async (selector) => text.locator(selector).allTextContents();
        assert((await all('strong')).join('|') === 'bold', `${who.name}: bold ${await all('strong')}`);
        assert((await all('em')).join('|') === 'it', `${who.name}: italic only at word boundaries ${await all('em')}`);
        const inline = await text.locator('code').evaluateAll((els) => els.filter((el) => !el.closest('pre')).map((el) => el.textContent));
        assert(inline.join('|') === 'code **not bold**', `${who.name}: inline code, unformatted inside: ${inline}`);
        assert((await all('pre > code')).join('|') === 'let **x** = _y_; // https://example.com/in-code',
          `${who.name}: the code block, without its fences, unformatted inside: ${await all('pre > code')}`);
        const links = text.locator('a');
        assert(await links.count() === 1, `${who.name}: one link (none in code, none for javascript:): ${await all('a')}`);
        assert(await links.getAttribute('href') === 'https://example.com/docs?q=1', 'the link leaves out the full stop');
        assert(await links.getAttribute('target') === '_blank', 'the link opens in a new tab');
        assert(await links.getAttribute('rel') === 'noopener noreferrer', 'the link gives the new tab no opener');
        const shown = await text.innerText();
        for (const part of [' a_b_c see ', ' or javascript:alert(1)', '\nafter the block']) {
          assert(shown.includes(part), `${who.name}: ${JSON.stringify(part)} is shown as written in ${JSON.stringify(shown)}`);
        }
        assert(!shown.includes('```') && !shown.includes('**bold'), `${who.name}: the marks are not shown: ${JSON.stringify(shown)}`);

        await who.expectMessage(MARKUP, { from: 'alice' });
        assert(!(await who.page.locator('#message-list script, #message-list img').count()), `${who.name}: no element from the text`);
        assert(await who.page.evaluate(() => window.pwned) === undefined, `${who.name}: nothing in the text ran`);

        const lines = (await rowWith(who, 'one line')).locator('.msg-text');
        assert(await lines.innerText() === 'one line\nand the next', `${who.name}: the line break is shown`);
      }
    },
  },
];
