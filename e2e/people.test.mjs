// People and rooms: direct conversations started from the people picker,
// private channels and invitations, moderators, bans and lifting them, a
// mention in a channel not open, and what a plain member is not offered.

import { Cable, PHONE, assert, until, contrast } from './client.mjs';

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (text) => new RegExp(`^${escapeRe(text)}$`);

/** The button of a channel in `chat`'s channel list. */
const channelButton = (chat, name) => chat.page.locator('#channel-list .channel-btn', {
  has: chat.page.locator('.channel-name', { hasText: exactly(name) }),
});

/** The button of the conversation with `peer` in `chat`'s Direct messages. */
const dmButton = (chat, peer) => chat.page.locator('#dm-list .channel-btn', {
  has: chat.page.locator('.channel-name', { hasText: exactly(peer) }),
});

/** `user`'s row in `chat`'s members panel. */
const memberRow = (chat, user) => chat.page.locator('#member-list .member', {
  has: chat.page.locator('.member-name', { hasText: exactly(user) }),
});

/** `user`'s row in the banned list. */
const banRow = (chat, user) => chat.page.locator('#ban-list .member', {
  has: chat.page.locator('.member-name', { hasText: exactly(user) }),
});

/** The names in `chat`'s channel list and Direct messages. */
const channelNames = (chat) => chat.page.locator('#channel-list .channel-name').allTextContents();
const dmNames = (chat) => chat.page.locator('#dm-list .channel-name').allTextContents();

/** The names the server lists to `chat`'s person (GET /api/channels). */
async function listedByServer(chat) {
  const res = await chat.context.request.get('/api/channels');
  assert(res.status() === 200, `GET /api/channels answered ${res.status()}`);
  return (await res.json()).channels.map((ch) => ch.name);
}

/** Waits until `chat`'s header shows `text` (`# name` for channels, the person for a DM). */
async function expectTitle(chat, text) {
  await until(`${chat.name}'s header to show ${JSON.stringify(text)}`, async () => {
    const shown = await chat.page.evaluate(() => {
      const title = document.getElementById('channel-title');
      return (title.querySelector('.title-name') || title).textContent;
    });
    return shown === text;
  });
}

/** True when nothing on the page is wider than the viewport. */
const fitsWidth = () => document.documentElement.scrollWidth <= window.innerWidth
  && document.body.scrollWidth <= window.innerWidth;

/** The text of the toasts `chat` shows. */
const toasts = (chat) => chat.page.locator('#toasts .toast-text').allTextContents();

/** Creates public channel `name` as `chat` over HTTP (as from another device of theirs). */
async function createOver(chat, name) {
  const res = await chat.context.request.post('/api/channels', { data: { name } });
  assert(res.status() === 201, `create #${name} answered ${res.status()} ${await res.text()}`);
}

/** Presses a member action of `user`'s row, e.g. "Make moderator"; a "Ban" or "Remove" is confirmed. */
async function memberAction(chat, user, label) {
  const row = memberRow(chat, user);
  await row.locator('.member-action', { hasText: exactly(label) }).click();
  if (label === 'Ban' || label === 'Remove') {
    const confirm = row.locator('.member-action.is-armed');
    assert((await confirm.textContent()) === `Confirm ${label.toLowerCase()}`, `${label} asks to be confirmed`);
    await confirm.click();
  }
}

/** The labels of the actions `chat` is offered on `user`'s row. */
const actionsOn = (chat, user) => memberRow(chat, user).locator('.member-action').allTextContents();

/** Types `text` into a people picker's input key by key (the typeahead reads keystrokes). */
async function typeInto(chat, selector, text) {
  const input = chat.page.locator(selector);
  await input.fill('');
  await input.pressSequentially(text, { delay: 20 });
}

/** The suggestions a people picker shows: names, and which one is marked. */
function suggestions(chat, listSelector) {
  return chat.page.locator(listSelector).evaluate((ul) => (ul.hidden ? { names: [], marked: null } : {
    names: [...ul.querySelectorAll('[role="option"] .picker-name')].map((el) => el.textContent),
    marked: ul.querySelector('[aria-selected="true"] .picker-name')?.textContent ?? null,
  }));
}

/**
 * Records, from now on, the frames `chat`'s page sends on its WebSockets
 * (the page is loaded again for it); read them with sentFrames().
 */
async function recordSent(chat) {
  await chat.page.addInitScript(() => {
    window.sentFrames = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function recorded(data) {
      try {
        window.sentFrames.push(JSON.parse(data));
      } catch {
        // Not JSON: not ours to check.
      }
      return send.call(this, data);
    };
  });
  await chat.page.reload();
  await chat.ready();
}

const sentFrames = (chat) => chat.page.evaluate(() => window.sentFrames);

export const tests = [
  {
    name: 'people: a direct message started from the people picker appears live for the other person under the sender\'s name, both ways, and for nobody else',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const carol = await world.user('carol');
      await world.account('bobby');
      const { page } = alice;

      assert(await page.locator('#dm-empty').isVisible(), 'an empty Direct messages section says so');
      await page.click('#dm-new');
      assert((await page.getAttribute('#dm-new', 'aria-expanded')) === 'true', 'the + button says the picker is open');
      await until('the picker input to have the focus', () => page.evaluate(() => document.activeElement?.id === 'dm-input'));
      await typeInto(alice, '#dm-input', 'bo');
      let shown = await until('suggestions for "bo"', async () => {
        const s = await suggestions(alice, '#dm-suggestions');
        return s.names.length === 2 ? s : null;
      });
      assert(shown.names.join(',') === 'bob,bobby', `the people starting with "bo", by name (${shown.names})`);
      assert(shown.marked === 'bob', 'the first suggestion is marked');
      assert((await page.getAttribute('#dm-input', 'aria-expanded')) === 'true', 'the combobox says it is expanded');
      await page.keyboard.press('ArrowDown');
      shown = await suggestions(alice, '#dm-suggestions');
      assert(shown.marked === 'bobby', 'ArrowDown marks the next one');
      const active = await page.getAttribute('#dm-input', 'aria-activedescendant');
      assert(active && (await page.textContent(`#${active}`)).endsWith('bobby'), 'aria-activedescendant names the marked option');
      await page.keyboard.press('ArrowUp');
      assert((await suggestions(alice, '#dm-suggestions')).marked === 'bob', 'ArrowUp goes back');
      // Nobody else starting with "al": alice herself is never suggested.
      await typeInto(alice, '#dm-input', 'al');
      await until('"no one" for "al"', async () => (await page.textContent('#dm-status')).includes('No one else found'));
      assert((await suggestions(alice, '#dm-suggestions')).names.length === 0, 'alice is not offered to herself');
      await typeInto(alice, '#dm-input', 'bo');
      await until('suggestions again', async () => (await suggestions(alice, '#dm-suggestions')).marked === 'bob');
      await page.keyboard.press('Enter');

      await expectTitle(alice, 'bob');
      assert(await page.locator('#dm-picker').isHidden(), 'the picker closes once the conversation is open');
      await dmButton(alice, 'bob').waitFor();
      assert((await dmNames(alice)).join(',') === 'bob', 'alice lists the conversation once, as "bob"');
      assert(!(await channelNames(alice)).some((n) => n.startsWith('dm~')), 'no dm~ name among the channels');
      assert((await page.getAttribute('#composer-input', 'placeholder')) === 'Message bob', 'the composer names bob');

      // bob sees it appear, live, under alice's name; what she writes counts as unread.
      await dmButton(bob, 'alice').waitFor();
      await alice.send('hi bob, just between us');
      await alice.expectMessage('hi bob, just between us', { from: 'alice' });
      await until('bob to see 1 unread from alice', async () =>
        (await dmButton(bob, 'alice').locator('.unread-badge').textContent()) === '1');
      assert((await dmNames(bob)).join(',') === 'alice', 'bob lists it once, as "alice"');
      assert(!(await channelNames(bob)).some((n) => n.startsWith('dm~')), 'not among bob\'s channels');
      await dmButton(bob, 'alice').click();
      await expectTitle(bob, 'alice');
      await bob.expectMessage('hi bob, just between us', { from: 'alice' });
      await bob.send('hi alice, got it');
      await alice.expectMessage('hi alice, got it', { from: 'bob' });
      await bob.expectMessage('hi alice, got it', { from: 'bob' });

      // Opening it again from either side finds the same one: still one row.
      await page.click('#dm-new');
      await typeInto(alice, '#dm-input', 'bob');
      await until('bob suggested', async () => (await suggestions(alice, '#dm-suggestions')).marked === 'bob');
      await page.keyboard.press('Enter');
      await expectTitle(alice, 'bob');
      assert((await dmNames(alice)).join(',') === 'bob', 'no second row for the same conversation');
      await alice.expectMessage('hi alice, got it', { from: 'bob' });

      // Escape closes the picker and gives the focus back to its button.
      await carol.page.click('#dm-new');
      await carol.page.locator('#dm-input').waitFor();
      await carol.page.keyboard.press('Escape');
      assert(await carol.page.locator('#dm-picker').isHidden(), 'Escape closes the picker');
      assert(await carol.page.evaluate(() => document.activeElement?.id === 'dm-new'), 'the focus goes back to +');

      // carol sees none of it, in the UI or from the server.
      assert((await dmNames(carol)).length === 0, 'carol has no direct messages');
      assert(!(await channelNames(carol)).some((n) => n.startsWith('dm~')), 'nor a dm~ channel');
      assert(!(await listedByServer(carol)).some((n) => n.startsWith('dm~')), 'the server lists none to carol');
      assert((await listedByServer(bob)).some((n) => n.startsWith('dm~')), 'the server lists it to bob');
    },
  },
  {
    name: 'people: a private channel shows a lock; its owner invites from the members panel and the invited one sees it live; nobody else does',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const carol = await world.user('carol');
      const { page } = alice;

      await page.fill('#channel-name', 'secret');
      await page.check('#channel-private');
      await page.press('#channel-name', 'Enter');
      await expectTitle(alice, '# secret');
      const titleLock = page.locator('#channel-title .channel-lock');
      assert((await titleLock.getAttribute('aria-label')) === 'private', 'the header has a lock labelled "private"');
      const row = channelButton(alice, 'secret');
      assert((await row.locator('.channel-lock').getAttribute('aria-label')) === 'private', 'so does its row');
      assert(!(await row.locator('.channel-hash').count()), 'the lock stands for the #');
      assert((await row.getAttribute('aria-label')).startsWith('secret, private'), 'the row says it is private');
      assert(!(await page.isChecked('#channel-private')), 'the box is cleared for the next channel');
      assert(!(await channelButton(alice, 'general').locator('.channel-lock').count()), '#general has no lock');

      // The panel: alice, the owner, and an invite field.
      await until('alice listed as owner', async () =>
        (await memberRow(alice, 'alice').locator('.role-badge').textContent().catch(() => '')) === 'owner');
      assert(await page.locator('#invite-form').isVisible(), 'the owner of a private channel gets an invite field');
      assert((await actionsOn(alice, 'alice')).length === 0, 'no actions on oneself, the owner');

      await typeInto(alice, '#invite-input', 'b');
      await until('bob suggested', async () => (await suggestions(alice, '#invite-suggestions')).marked === 'bob');
      await page.keyboard.press('Enter');
      await until('bob to be listed', async () => (await memberRow(alice, 'bob').count()) === 1);
      assert((await page.textContent('#invite-status')) === 'bob was invited.', 'the panel says bob was invited');
      assert((await page.locator('#member-list .member-name').allTextContents()).join(',') === 'alice,bob', 'both listed');
      assert((await actionsOn(alice, 'bob')).join(',') === 'Make moderator,Remove', 'alice may promote or remove bob');

      // bob sees it appear, live, with its lock, and is told who added him.
      await channelButton(bob, 'secret').waitFor();
      assert(await channelButton(bob, 'secret').locator('.channel-lock[aria-label="private"]').count() === 1, 'with a lock');
      await until('bob to be told', async () => (await toasts(bob)).includes('alice added you to the private channel #secret.'));
      await bob.openChannel('secret');
      await alice.send('welcome to the secret room');
      await bob.expectMessage('welcome to the secret room', { from: 'alice' });
      assert(!(await bob.page.locator('#invite-form').isVisible()), 'bob, a member, gets no invite field');

      // carol sees nothing of it, in the UI or from the server.
      assert(!(await channelNames(carol)).includes('secret'), 'carol does not list #secret');
      assert(!(await listedByServer(carol)).includes('secret'), 'the server does not list it to carol');
      const res = await carol.context.request.get('/api/channels/secret/messages');
      assert(res.status() === 404, `carol reading #secret gets 404 (got ${res.status()})`);
    },
  },
  {
    name: 'people: a moderator gets the controls live; a ban tells the banned one, moves them to #general and sticks over a reconnect; lifting it lets them back',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const cable = new Cable();
      const carol = await world.user('carol', { prepare: (context) => cable.attach(context) });
      await recordSent(carol);
      await createOver(alice, 'town');
      for (const chat of [alice, bob, carol]) await chat.openChannel('town');
      await until('alice to see all three present', async () =>
        (await alice.memberNames()).join(',') === 'alice,bob,carol');

      // A plain member of a public channel: no controls.
      await until('bob to see alice as owner', async () =>
        (await memberRow(bob, 'alice').locator('.role-badge').textContent().catch(() => '')) === 'owner');
      assert((await bob.page.locator('#member-list .member-action').count()) === 0, 'bob is offered no actions yet');

      assert((await actionsOn(alice, 'bob')).join(',') === 'Make moderator,Ban', 'alice may promote or ban bob');
      await memberAction(alice, 'bob', 'Make moderator');
      await until('bob listed as moderator to alice', async () =>
        (await memberRow(alice, 'bob').locator('.role-badge').textContent().catch(() => '')) === 'moderator');
      assert((await actionsOn(alice, 'bob')).join(',') === 'Make member,Ban', 'the owner may make a moderator a member again');

      // bob's panel gains the controls live (a role frame), never on the owner.
      await until('bob to be offered actions on carol', async () =>
        (await actionsOn(bob, 'carol')).join(',') === 'Make moderator,Ban');
      assert((await actionsOn(bob, 'alice')).length === 0, 'nothing on the owner');
      assert((await actionsOn(bob, 'bob')).length === 0, 'nothing on himself');
      await until('bob to be told', async () => (await toasts(bob)).includes('alice made you a moderator of #town.'));

      // alice bans carol.
      await memberAction(alice, 'carol', 'Ban');
      await until('carol to be told', async () => (await toasts(carol))
        .includes('You were removed from #town by alice. You can join it again once the ban is lifted.'));
      await expectTitle(carol, '# general');
      await until('#town to leave carol\'s list', async () => !(await channelNames(carol)).includes('town'));
      await until('alice to list carol as banned', async () => (await banRow(alice, 'carol').count()) === 1);
      assert((await alice.memberNames()).join(',') === 'alice,bob', 'carol is no longer present to alice');
      await until('bob (a moderator) to see the ban too', async () => {
        await bob.openChannel('general');
        await bob.openChannel('town');
        return (await banRow(bob, 'carol').count()) === 1;
      });

      // After a reconnect carol's page does not try #town again.
      const kickedAt = (await sentFrames(carol)).length;
      cable.unplug();
      await until('carol to notice', async () => carol.page.locator('#banner').isVisible());
      cable.plug();
      await carol.backOnline();
      await until('carol to rejoin #general', async () =>
        (await sentFrames(carol)).slice(kickedAt).some((f) => f.type === 'join' && f.channel === 'general'));
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert(!(await sentFrames(carol)).slice(kickedAt).some((f) => f.channel === 'town'), 'no frame for #town after the ban');
      assert(!(await channelNames(carol)).includes('town'), '#town is still gone');

      // alice lifts the ban: carol can come back.
      await banRow(alice, 'carol').locator('.member-action', { hasText: 'Lift ban' }).click();
      await until('the banned list to empty', async () => alice.page.locator('#ban-list').isHidden());
      await carol.page.reload();
      await carol.ready();
      await carol.openChannel('town');
      await carol.send('back in town');
      await alice.expectMessage('back in town', { from: 'carol' });

      // Banned again while her connection is down: the kicked frame is lost, the channel list says it.
      cable.unplug();
      await until('carol to notice', async () => carol.page.locator('#banner').isVisible());
      const banned = await alice.context.request.delete('/api/channels/town/members/carol');
      assert(banned.status() === 204, `banning carol again answered ${banned.status()}`);
      cable.plug();
      await carol.backOnline();
      await until('#town to leave carol\'s list after the reconnect', async () => !(await channelNames(carol)).includes('town'));
      await expectTitle(carol, '# general');
    },
  },
  {
    name: 'people: a mention in a channel not open raises its mention badge once, notifies a hidden tab, and is highlighted when opened',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      // alice's browser grants notifications; the test decides when her tab is hidden.
      await alice.page.addInitScript(() => {
        window.seenNotes = [];
        window.tabHidden = false;
        Object.defineProperty(Document.prototype, 'hidden', { get: () => window.tabHidden, configurable: true });
        window.Notification = class {
          static permission = 'granted';

          static requestPermission() { return Promise.resolve('granted'); }

          constructor(title, options) { window.seenNotes.push({ title, body: options && options.body }); }

          addEventListener() {}

          close() {}
        };
      });
      await alice.page.reload();
      await alice.ready();
      await createOver(bob, 'den');
      await createOver(alice, 'quiet');
      await channelButton(alice, 'den').waitFor();
      await alice.openChannel('quiet');
      await bob.openChannel('den');

      await alice.page.evaluate(() => { window.tabHidden = true; });
      await bob.send('@alice have a look at this');
      await bob.expectMessage('@alice have a look at this', { from: 'bob' });
      const badge = channelButton(alice, 'den').locator('.mention-badge');
      await until('alice to see @1 on #den', async () => (await badge.isVisible()) && (await badge.textContent()) === '@1');
      await until('a notification', async () => (await alice.page.evaluate(() => window.seenNotes.length)) === 1);
      const [note] = await alice.page.evaluate(() => window.seenNotes);
      assert(note.title === 'bob mentioned you in #den', `the notification says who and where (${note.title})`);
      await alice.page.evaluate(() => { window.tabHidden = false; });

      // In #general, which alice has joined, the mention comes twice (message and mention): counted once.
      await bob.openChannel('general');
      await bob.send('@alice in general too');
      await bob.expectMessage('@alice in general too', { from: 'bob' });
      const general = channelButton(alice, 'general').locator('.mention-badge');
      await until('alice to see @1 on #general', async () => (await general.isVisible()) && (await general.textContent()) === '@1');
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert((await general.textContent()) === '@1', 'still @1: one mention counted once');
      assert((await badge.textContent()) === '@1', '#den still @1');

      await alice.openChannel('den');
      const row = await alice.expectMessage('@alice have a look at this', { from: 'bob' });
      assert((await row.getAttribute('class')).includes('is-mention'), 'the row is highlighted');
      const chip = row.locator('.msg-text .mention-me');
      assert(await chip.count() === 1 && (await chip.textContent()) === '@alice', 'alice\'s name is marked as hers');
      await until('the badge to go once read', async () => !(await badge.isVisible()));
    },
  },
  {
    name: 'people: a plain member sees no admin controls; inviting someone who does not exist, or removing someone already gone, says so in the panel',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      await alice.page.fill('#channel-name', 'club');
      await alice.page.check('#channel-private');
      await alice.page.press('#channel-name', 'Enter');
      await expectTitle(alice, '# club');
      await alice.openChannel('general');
      const res = await alice.context.request.post('/api/channels/club/members', { data: { user: 'bob' } });
      assert(res.status() === 201, `inviting bob answered ${res.status()}`);
      await channelButton(bob, 'club').waitFor();
      await bob.openChannel('club');
      await until('bob to see both members', async () =>
        (await bob.page.locator('#member-list .member-name').allTextContents()).join(',') === 'alice,bob');
      assert((await memberRow(bob, 'alice').locator('.role-badge').textContent()) === 'owner', 'alice is the owner');
      assert(await bob.page.locator('#member-list .member-action').count() === 0, 'bob is offered no actions');
      assert(await bob.page.locator('#invite-form').isHidden(), 'nor an invite field');
      assert(await bob.page.locator('#ban-list').isHidden(), 'nor a banned list');

      await alice.openChannel('club');
      await typeInto(alice, '#invite-input', 'nobody');
      await until('"no one" for "nobody"', async () =>
        (await alice.page.textContent('#invite-status')) === 'No one else found starting with “nobody”.');
      world.guard.expectHttpError(alice.page, 'POST', '/api/channels/club/members', 404);
      await alice.page.press('#invite-input', 'Enter');
      const status = alice.page.locator('#invite-status.is-error');
      await status.waitFor();
      const said = await status.textContent();
      assert(said && !said.includes('{') && !/^The server answered/.test(said), `a readable message (${said})`);
      assert((await alice.page.locator('#member-list .member-name').allTextContents()).join(',') === 'alice,bob', 'nobody was added');

      // bob becomes a moderator; carol, invited too, is removed by alice while bob's panel still lists her:
      // his "Remove" is refused, and the panel says why and lists her no more.
      await world.account('carol');
      const invited = await alice.context.request.post('/api/channels/club/members', { data: { user: 'carol' } });
      assert(invited.status() === 201, `inviting carol answered ${invited.status()}`);
      await memberAction(alice, 'bob', 'Make moderator');
      await until('bob to be offered actions on carol', async () =>
        (await actionsOn(bob, 'carol')).join(',') === 'Make moderator,Remove');
      assert((await actionsOn(bob, 'alice')).length === 0, 'nothing on the owner');
      const removed = await alice.context.request.delete('/api/channels/club/members/carol');
      assert(removed.status() === 204, `removing carol answered ${removed.status()}`);
      world.guard.expectHttpError(bob.page, 'DELETE', '/api/channels/club/members/carol', 404);
      await memberAction(bob, 'carol', 'Remove');
      const refused = bob.page.locator('#members-error');
      await refused.waitFor();
      const why = await refused.textContent();
      assert(why && !why.includes('{') && !/^The server answered/.test(why), `the refusal is readable (${why})`);
      await until('carol to leave bob\'s list', async () => (await memberRow(bob, 'carol').count()) === 0);
    },
  },
  {
    name: 'people: on a phone in dark mode, a direct message and an invitation work from the drawers and fit the screen',
    async run(world) {
      await world.user('bob');
      const alice = await world.user('alice', { viewport: PHONE, colorScheme: 'dark' });
      const { page } = alice;

      await page.click('#sidebar-toggle');
      await page.locator('#sidebar').waitFor({ state: 'visible' });
      await page.click('#dm-new');
      await typeInto(alice, '#dm-input', 'bo');
      await until('bob suggested', async () => (await suggestions(alice, '#dm-suggestions')).marked === 'bob');
      assert(await page.evaluate(fitsWidth), 'the picker fits 375 px');
      await page.locator('#dm-suggestions [role="option"]', { hasText: 'bob' }).click();
      await expectTitle(alice, 'bob');
      await until('the drawer to close', async () => !(await page.locator('#sidebar').isVisible()));

      await page.click('#sidebar-toggle');
      await page.fill('#channel-name', 'pocket');
      await page.check('#channel-private');
      await page.press('#channel-name', 'Enter');
      await expectTitle(alice, '# pocket');
      assert(await page.locator('#channel-title .channel-lock').isVisible(), 'the lock shows in the header on a phone');

      await page.click('#members-toggle');
      await page.locator('#members').waitFor({ state: 'visible' });
      await typeInto(alice, '#invite-input', 'bo');
      await until('bob suggested', async () => (await suggestions(alice, '#invite-suggestions')).marked === 'bob');
      await page.keyboard.press('Enter');
      await until('bob listed', async () => (await memberRow(alice, 'bob').count()) === 1);
      for (const button of await memberRow(alice, 'bob').locator('.member-action').all()) {
        const box = await button.boundingBox();
        assert(box && box.x + box.width <= PHONE.width && box.height >= 28, 'each control is on screen and big enough to tap');
      }
      assert(await page.evaluate(fitsWidth), 'the members drawer fits 375 px');
      const badge = memberRow(alice, 'alice').locator('.role-badge');
      const [fg, bg] = await badge.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
      assert(contrast(fg, bg) >= 4.5, `the owner badge is readable in dark mode (${contrast(fg, bg).toFixed(1)})`);
    },
  },
];
