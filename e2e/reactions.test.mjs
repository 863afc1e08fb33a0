// Reactions: giving one from the picker, what everyone sees live and after
// a reload (a chip per emoji with its count, ours pressed, who gave it),
// taking it back from the chip, the picker from the keyboard, and a
// reaction the server refuses.

import { PHONE, assert, until } from './client.mjs';

/** The row of message `id` in `chat`'s view. */
const rowOf = (chat, id) => chat.page.locator(`#message-list li.msg[data-id="${id}"]`);

/** The chip of `emoji` under message `id` in `chat`'s view. */
const chipOf = (chat, id, emoji) => rowOf(chat, id).locator('.reaction', { hasText: emoji });

/** What a chip shows: its text ("👍 2"), who gave it (its title) and whether it is ours. */
async function chipState(chip) {
  if (!(await chip.count())) return null;
  return chip.evaluate((el) => ({ text: el.textContent, who: el.title, mine: el.getAttribute('aria-pressed') === 'true' }));
}

/** Waits until the chip of `emoji` under message `id` shows `want` ({text, who, mine}) to `chat`. */
async function expectChip(chat, id, emoji, want) {
  let seen = null;
  await until(`${chat.name} to see the ${emoji} chip as ${JSON.stringify(want)}`, async () => {
    seen = await chipState(chipOf(chat, id, emoji));
    return seen && seen.text === want.text && seen.who === want.who && seen.mine === want.mine;
  }).catch((err) => {
    throw new Error(`${err.message}; it shows ${JSON.stringify(seen)}`);
  });
}

/** Sends `text` as `chat` and returns its id once the server has it. */
async function sent(chat, text) {
  await chat.send(text);
  const row = await chat.expectMessage(text, { from: chat.name });
  const id = await row.getAttribute('data-id');
  assert(id, `${JSON.stringify(text)} has an id`);
  return id;
}

/**
 * A long press of `locator` on a touch screen, as a finger makes it: a touch
 * held still for 900 ms through Chromium's own touch input (pointer and
 * touch events, and the click a lifted finger makes).
 */
async function longPress(chat, locator) {
  await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  assert(box, 'the element to press is on screen');
  const point = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const cdp = await chat.page.context().newCDPSession(chat.page);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
  await chat.page.waitForTimeout(900);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

/** The name of the element that has the focus in `chat`'s page. */
const focused = (chat) => chat.page.evaluate(() => document.activeElement?.getAttribute('aria-label') || document.activeElement?.id || '');

export const tests = [
  {
    name: 'a reaction from the picker shows live to others; clicking its chip adds or takes back yours, never counted twice; history keeps them',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const id = await sent(bob, 'the build is green');
      await alice.expectMessage('the build is green', { from: 'bob' });

      const row = rowOf(alice, id);
      await row.hover();
      await row.getByRole('button', { name: 'Add reaction', exact: true }).click();
      const picker = alice.page.getByRole('dialog', { name: 'Add a reaction' });
      await picker.waitFor();
      const offered = await picker.getByRole('button').allTextContents();
      assert(offered.length === 16, `the picker offers the 16 emoji of GET /api/emoji: ${offered.join(' ')}`);
      assert(offered[0] === '👍', `the first is 👍: ${offered[0]}`);
      await picker.getByRole('button', { name: 'React with 👍' }).click();
      await picker.waitFor({ state: 'hidden' });

      await expectChip(bob, id, '👍', { text: '👍 1', who: 'alice', mine: false });
      await expectChip(alice, id, '👍', { text: '👍 1', who: 'alice', mine: true });

      await chipOf(bob, id, '👍').click();
      await expectChip(bob, id, '👍', { text: '👍 2', who: 'alice, bob', mine: true });
      await expectChip(alice, id, '👍', { text: '👍 2', who: 'alice, bob', mine: true });
      await chipOf(bob, id, '👍').click();
      await expectChip(bob, id, '👍', { text: '👍 1', who: 'alice', mine: false });
      await expectChip(alice, id, '👍', { text: '👍 1', who: 'alice', mine: true });
      assert(await rowOf(bob, id).locator('.reaction').count() === 1, 'one chip: one emoji given');

      for (const who of [bob, alice]) {
        await who.page.reload();
        await who.ready();
        await who.expectMessage('the build is green', { from: 'bob' });
        await expectChip(who, id, '👍', { text: '👍 1', who: 'alice', mine: who === alice });
      }

      // Taking back the last one leaves no chip.
      await chipOf(alice, id, '👍').click();
      for (const who of [alice, bob]) {
        await until(`${who.name} to see no chip left`, async () => (await rowOf(who, id).locator('.reaction').count()) === 0);
      }
    },
  },
  {
    name: 'the reaction picker works from the keyboard and Escape closes it where it was opened',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const id = await sent(bob, 'ship it?');
      await alice.expectMessage('ship it?', { from: 'bob' });

      const open = rowOf(alice, id).getByRole('button', { name: 'Add reaction', exact: true });
      await open.focus();
      await alice.page.keyboard.press('Enter');
      const picker = alice.page.getByRole('dialog', { name: 'Add a reaction' });
      await picker.waitFor();
      assert(await focused(alice) === 'React with 👍', `the first emoji has the focus: ${await focused(alice)}`);
      await alice.page.keyboard.press('Escape');
      await picker.waitFor({ state: 'hidden' });
      assert(await focused(alice) === 'Add reaction', `the focus is back on the action: ${await focused(alice)}`);
      assert(!(await rowOf(alice, id).locator('.reaction').count()), 'Escape gave no reaction');

      await alice.page.keyboard.press('Enter');
      await picker.waitFor();
      await alice.page.keyboard.press('ArrowRight');
      assert(await focused(alice) === 'React with 👎', `ArrowRight moves to the next emoji: ${await focused(alice)}`);
      await alice.page.keyboard.press('Enter');
      await picker.waitFor({ state: 'hidden' });
      await expectChip(bob, id, '👎', { text: '👎 1', who: 'alice', mine: false });
      await expectChip(alice, id, '👎', { text: '👎 1', who: 'alice', mine: true });
      // The chip keeps the focus when its row is drawn again.
      await chipOf(alice, id, '👎').focus();
      await alice.page.keyboard.press('Enter');
      await until('alice\'s reaction to go', async () => (await rowOf(alice, id).locator('.reaction').count()) === 0);
      await chipOf(bob, id, '👎').waitFor({ state: 'detached' });
    },
  },
  {
    name: 'a reaction the server refuses is said in a toast',
    async run(world) {
      const bob = await world.user('bob');
      const id = await sent(bob, 'soon gone');
      // Alice's page never hears of the deletion, so it still offers to react.
      const alice = await world.user('alice', {
        prepare: (context) => context.routeWebSocket(/\/ws$/, (ws) => {
          const server = ws.connectToServer();
          server.onMessage((data) => {
            if (!String(data).includes('"type":"deleted"')) ws.send(data);
          });
          ws.onMessage((data) => server.send(data));
        }),
      });
      const { page } = alice;
      await rowOf(alice, id).waitFor();

      const deleteIt = rowOf(bob, id);
      await deleteIt.hover();
      await deleteIt.getByRole('button', { name: 'Delete your message', exact: true }).click();
      await deleteIt.locator('.msg-confirm').getByRole('button', { name: 'Delete', exact: true }).click();
      await until('bob to see the tombstone', async () => (await deleteIt.getAttribute('class')).includes('is-deleted'));

      const row = rowOf(alice, id);
      await row.hover();
      await row.getByRole('button', { name: 'Add reaction', exact: true }).click();
      await page.getByRole('dialog', { name: 'Add a reaction' }).getByRole('button', { name: 'React with 🎉' }).click();
      const toast = page.locator('.toast', { hasText: 'Your reaction was not saved.' });
      await toast.waitFor();
      assert(!(await row.locator('.reaction').count()), 'no chip appears for a refused reaction');
    },
  },
  {
    name: 'on a phone a long press on a message shows its actions, and on a reaction chip shows who gave it',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const carol = await world.user('carol', { viewport: PHONE });
      const id = await sent(alice, 'press me long');
      for (const [who, emoji] of [[alice, '👍'], [bob, '👍']]) {
        const row = rowOf(who, id);
        await row.hover();
        await row.getByRole('button', { name: 'Add reaction', exact: true }).click();
        await who.page.getByRole('dialog', { name: 'Add a reaction' }).getByRole('button', { name: `React with ${emoji}` }).click();
        await expectChip(who, id, emoji, { text: '👍 ' + (who === alice ? '1' : '2'), who: who === alice ? 'alice' : 'alice, bob', mine: true });
      }
      await expectChip(carol, id, '👍', { text: '👍 2', who: 'alice, bob', mine: false });

      const row = rowOf(carol, id);
      const who = row.locator('.reaction-who');
      assert(!(await who.isVisible()), 'who gave it is hidden before the press');
      await longPress(carol, chipOf(carol, id, '👍'));
      await until('a long press on the chip to show who gave it', () => who.isVisible());
      assert((await who.innerText()).trim() === 'alice, bob', `it names them: ${await who.innerText()}`);
      const still = await chipState(chipOf(carol, id, '👍'));
      assert(still.text === '👍 2' && !still.mine, `a long press is not a tap: nothing was given (${JSON.stringify(still)})`);
      await longPress(carol, chipOf(carol, id, '👍'));
      await until('another long press to hide it', async () => !(await who.isVisible()));

      const react = row.getByRole('button', { name: 'Add reaction', exact: true });
      await longPress(carol, row.locator('.msg-text'));
      await until('a long press on the message to show its actions', () => react.isVisible());
      await react.tap();
      await carol.page.getByRole('dialog', { name: 'Add a reaction' }).getByRole('button', { name: 'React with 👍' }).tap();
      await expectChip(alice, id, '👍', { text: '👍 3', who: 'alice, bob, carol', mine: true });
    },
  },
];
