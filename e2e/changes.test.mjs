// Edits and deletions: changing one's own message from the UI, what everyone
// else sees live and after a reload (the "(edited)" mark, the tombstone, the
// quote of a reply), who gets the actions, and a refused edit.

import { assert, until } from './client.mjs';

/** The row of message `id` in `chat`'s view. */
const rowOf = (chat, id) => chat.page.locator(`#message-list li.msg[data-id="${id}"]`);

/** Shows a row's actions as a pointer would and clicks the one named `name`. */
async function act(row, name) {
  await row.hover();
  await row.getByRole('button', { name, exact: true }).click();
}

/** The quote above the reply `text` in `chat`'s view, as "author: first line". */
async function quoteAbove(chat, text) {
  const quote = chat.messages(text).locator('.msg-quote');
  await until(`${chat.name} to see the quote above ${JSON.stringify(text)}`, async () =>
    (await quote.count()) === 1 && !/Loading/.test(await quote.textContent()));
  return `${await quote.locator('.quote-author').textContent()}: ${await quote.locator('.quote-text').textContent()}`;
}

/**
 * Counts the frames of `type` the page sends on its WebSocket from now on;
 * `count()` reads the tally.
 */
async function countSent(chat, type) {
  await chat.page.evaluate((wanted) => {
    const send = WebSocket.prototype.send;
    window.sentFrames = 0;
    WebSocket.prototype.send = function countedSend(data) {
      try {
        if (JSON.parse(data).type === wanted) window.sentFrames += 1;
      } catch {
        // Not JSON: not ours to count.
      }
      return send.call(this, data);
    };
  }, type);
  return { count: () => chat.page.evaluate(() => window.sentFrames) };
}

/** Sends `text` as `chat` and returns its id once the server has it. */
async function sent(chat, text) {
  await chat.send(text);
  const row = await chat.expectMessage(text, { from: chat.name });
  const id = await row.getAttribute('data-id');
  assert(id, `${JSON.stringify(text)} has an id`);
  return id;
}

export const tests = [
  {
    name: 'editing a message from the UI shows the new text and (edited) to everyone, after a reload and in a reply\'s quote',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const id = await sent(alice, 'lunch at noon?');
      await act(await bob.expectMessage('lunch at noon?', { from: 'alice' }), 'Reply to alice');
      await bob.send('sounds good');
      await bob.expectMessage('sounds good', { from: 'bob' });
      assert(await quoteAbove(bob, 'sounds good') === 'alice: lunch at noon?', 'the quote shows the text as sent');

      // What alice was writing is kept aside while she edits and comes back after.
      const input = alice.page.locator('#composer-input');
      await input.fill('a draft in progress');
      await act(rowOf(alice, id), 'Edit your message');
      await alice.page.locator('#edit-bar').waitFor();
      assert(await input.inputValue() === 'lunch at noon?', 'the composer holds the text to edit');
      await input.fill('lunch at one?\nin the park');
      await input.press('Enter');
      await alice.page.locator('#edit-bar').waitFor({ state: 'hidden' });
      assert(await input.inputValue() === 'a draft in progress', `the draft is back: ${await input.inputValue()}`);

      for (const who of [bob, alice]) {
        const row = rowOf(who, id);
        await until(`${who.name} to see the new text`, async () =>
          (await row.locator('.msg-text').innerText()) === 'lunch at one?\nin the park');
        const mark = row.locator('.msg-edited');
        assert(await mark.textContent() === '(edited)', `${who.name} sees the edit mark`);
        assert(/^Edited \S/.test(await mark.getAttribute('title')), `the mark's title says when: ${await mark.getAttribute('title')}`);
        assert(!(await who.page.locator('#message-list', { hasText: 'lunch at noon?' }).count()), `${who.name} no longer sees the old text`);
      }
      await until('bob to see the quote change', async () => await quoteAbove(bob, 'sounds good') === 'alice: lunch at one?');

      // History gives the current text, its mark, and the reply's quote.
      await bob.page.reload();
      await bob.ready();
      await bob.expectMessage('sounds good', { from: 'bob' });
      assert(await rowOf(bob, id).locator('.msg-text').innerText() === 'lunch at one?\nin the park', 'history has the new text');
      assert(await rowOf(bob, id).locator('.msg-edited').textContent() === '(edited)', 'history has the edit mark');
      assert(await quoteAbove(bob, 'sounds good') === 'alice: lunch at one?', 'the quote shows the new first line after a reload');
    },
  },
  {
    name: 'ArrowUp in an empty composer edits your last message; saving it unchanged sends nothing',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      await sent(alice, 'first');
      const id = await sent(alice, 'secnod');
      await sent(bob, 'not mine to edit');
      const edits = await countSent(alice, 'edit');
      const input = alice.page.locator('#composer-input');
      await input.press('ArrowUp');
      await alice.page.locator('#edit-bar').waitFor();
      assert(await input.inputValue() === 'secnod', `her last message is in the composer: ${await input.inputValue()}`);
      await input.press('Enter');
      await alice.page.locator('#edit-bar').waitFor({ state: 'hidden' });
      assert(await input.inputValue() === '', 'the composer is empty again');

      await input.press('ArrowUp');
      await input.fill('second');
      await input.press('Escape');
      await alice.page.locator('#edit-bar').waitFor({ state: 'hidden' });
      assert(await edits.count() === 0, `nothing was sent for an unchanged or cancelled edit (${await edits.count()} edit frames)`);

      await input.press('ArrowUp');
      await input.fill('second');
      await input.press('Enter');
      await until('bob to see the corrected text', async () => (await rowOf(bob, id).locator('.msg-text').textContent()) === 'second');
      assert(await edits.count() === 1, `one edit was sent (${await edits.count()})`);
    },
  },
  {
    name: 'deleting a message from the UI leaves a tombstone for everyone, after a reload and in a reply\'s quote',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const id = await sent(alice, 'the secret plan');
      await world.post('carol', 'general', [{ text: 'tell me more', reply_to: id }]);
      await bob.expectMessage('tell me more', { from: 'carol' });
      const deletes = await countSent(alice, 'delete');

      // The action asks first; Cancel keeps the message.
      const row = rowOf(alice, id);
      await act(row, 'Delete your message');
      const confirm = row.locator('.msg-confirm');
      assert((await confirm.textContent()).includes('Delete this message?'), 'the row asks to confirm');
      await confirm.getByRole('button', { name: 'Cancel', exact: true }).click();
      await confirm.waitFor({ state: 'detached' });
      assert(await deletes.count() === 0, 'nothing was sent before confirming');
      await act(row, 'Delete your message');
      await row.locator('.msg-confirm').getByRole('button', { name: 'Delete', exact: true }).click();

      for (const who of [bob, alice]) {
        const gone = rowOf(who, id);
        await until(`${who.name} to see the tombstone`, async () =>
          (await gone.getAttribute('class')).includes('is-deleted'));
        assert(await gone.locator('.msg-tombstone').textContent() === 'message deleted', `${who.name} sees "message deleted"`);
        assert(!(await gone.getByRole('button').count()), `${who.name} has no actions on a deleted message`);
        assert(!(await who.page.evaluate(() => document.body.textContent.includes('the secret plan'))), `the text is gone from ${who.name}'s page`);
      }
      assert(await deletes.count() === 1, `one delete was sent (${await deletes.count()})`);
      await until('bob to see the quote say so', async () => await quoteAbove(bob, 'tell me more') === 'alice: message deleted');

      await bob.page.reload();
      await bob.ready();
      await bob.expectMessage('tell me more', { from: 'carol' });
      await rowOf(bob, id).locator('.msg-tombstone', { hasText: 'message deleted' }).waitFor();
      assert(!(await bob.page.evaluate(() => document.body.textContent.includes('the secret plan'))), 'history does not bring the text back');
      assert(await quoteAbove(bob, 'tell me more') === 'alice: message deleted', 'the quote says so after a reload');
    },
  },
  {
    name: 'only your own messages offer Edit and Delete',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const hers = await sent(alice, 'from alice');
      const his = await sent(bob, 'from bob');
      const mine = rowOf(bob, his);
      await mine.hover();
      assert(await mine.getByRole('button', { name: 'Edit your message' }).isVisible(), 'bob can edit his own message');
      assert(await mine.getByRole('button', { name: 'Delete your message' }).isVisible(), 'bob can delete his own message');
      const theirs = rowOf(bob, hers);
      await theirs.hover();
      assert(await theirs.getByRole('button', { name: 'Reply to alice' }).isVisible(), 'bob can reply to alice');
      const names = await theirs.getByRole('button').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') || el.textContent));
      assert(names.join(',') === 'Reply to alice,Add reaction', `bob's only actions on alice's message are Reply and Add reaction: ${names}`);
      await bob.page.locator('#composer-input').press('ArrowUp');
      assert(await bob.page.locator('#composer-input').inputValue() === 'from bob', 'ArrowUp edits bob\'s own message, not the newer one of alice');
    },
  },
  {
    name: 'an edit the server refuses says why and keeps the text typed',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const id = await sent(alice, 'a short note');
      await act(rowOf(alice, id), 'Edit your message');
      const input = alice.page.locator('#composer-input');
      const long = `${'a much longer note '.repeat(110)}end`;
      assert(long.length > 2000, 'the text is over the limit');
      await input.fill(long);
      assert((await alice.page.textContent('#composer-counter')) === `${long.length} / 2000`, 'the counter shows the length over the limit');
      await input.press('Enter');
      const error = alice.page.locator('#composer-error');
      await until('the refusal to show', async () => (await error.isVisible()) && /at most 2000 characters/.test(await error.textContent()));
      assert(await input.inputValue() === long, 'the typed text is kept');
      assert(await alice.page.locator('#edit-bar').isVisible(), 'alice is still editing');
      assert(await rowOf(bob, id).locator('.msg-text').textContent() === 'a short note', 'bob still sees the message as it was');
      assert(!(await rowOf(bob, id).locator('.msg-edited').count()), 'and it is not marked edited');

      await input.fill('a short note, now edited');
      await input.press('Enter');
      await alice.page.locator('#edit-bar').waitFor({ state: 'hidden' });
      await until('bob to see the edit', async () => (await rowOf(bob, id).locator('.msg-text').textContent()) === 'a short note, now edited');
      assert(!(await error.isVisible()), 'the error is gone once saved');
    },
  },
];
