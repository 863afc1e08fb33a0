// Losing the server and coming back, and reading back through history.

import { assert, until, Cable, ChatPage } from './client.mjs';

/** Seconds until the next reconnect attempt, as the banner says, or null. */
async function retryInSecs(chat) {
  if (!(await chat.page.locator('#banner').isVisible())) return null;
  const m = /reconnecting in (\d+)s/.exec(await chat.page.textContent('#banner-text'));
  return m ? Number(m[1]) : null;
}

/** Visible part of `row` inside the message scroller, as {top, bottom} offsets from its top, or null. */
function placeInScroller(row) {
  const view = document.getElementById('message-scroller').getBoundingClientRect();
  const box = row.getBoundingClientRect();
  const visible = box.bottom > view.top && box.top < view.bottom;
  return visible ? { top: box.top - view.top, bottom: box.bottom - view.top } : null;
}

/**
 * Routes the WebSockets of `context` through a relay that notes the refs of
 * sends of `text`. With `loseNextAck` set, the next ack (and the echo of
 * `text`) is lost together with the connection; with `refuse` set, new
 * connections are closed at once.
 */
async function lossyRelay(context, text) {
  const relay = { loseNextAck: false, refuse: false, sockets: 0, sentRefs: [] };
  await context.routeWebSocket(/\/ws$/, (page) => {
    relay.sockets += 1;
    if (relay.refuse) {
      page.close({ code: 4000, reason: 'refused' });
      return;
    }
    const server = page.connectToServer();
    page.onMessage((m) => {
      const frame = typeof m === 'string' ? JSON.parse(m) : {};
      if (frame.type === 'send' && frame.text === text) relay.sentRefs.push(frame.ref);
      server.send(m);
    });
    server.onMessage((m) => {
      const frame = typeof m === 'string' ? JSON.parse(m) : {};
      if (relay.loseNextAck && frame.type === 'message' && frame.message.text === text) return;
      if (relay.loseNextAck && frame.type === 'ack') {
        // Stored, but the tab hears neither its echo nor its ack.
        relay.loseNextAck = false;
        page.close({ code: 4000, reason: 'lost' });
        server.close();
        return;
      }
      page.send(m);
    });
  });
  return relay;
}

export const tests = [
  {
    name: 'a send the server refuses as overloaded stays Sending… and goes again by itself, shown once',
    async run(world) {
      const bob = await world.user('bob');
      // Every send of "patience pays" gets the server's overloaded answer
      // instead of reaching it, until the test opens the gate: so the row is
      // seen pending whatever the machine's speed.
      const refusals = [];
      const gate = { open: false };
      const alice = await world.user('alice', {
        prepare: (context) => context.routeWebSocket(/\/ws$/, (page) => {
          const server = page.connectToServer();
          server.onMessage((data) => page.send(data));
          page.onMessage((data) => {
            const frame = JSON.parse(String(data));
            if (frame.type === 'send' && frame.text === 'patience pays' && !gate.open) {
              refusals.push({ ref: frame.ref, at: Date.now() });
              page.send(JSON.stringify({ type: 'error', code: 'overloaded', ref: frame.ref,
                message: 'The server is busy; send it again in a moment.' }));
              return;
            }
            server.send(data);
          });
        }),
      });
      const { page } = alice;

      await alice.send('patience pays');
      await until('the first refusal', () => refusals.length >= 1);
      const row = alice.messages('patience pays');
      assert(await row.evaluate((el) => el.classList.contains('is-pending') && !el.classList.contains('is-failed')),
        'refused as overloaded, it still shows as being sent');
      await until('the send to go again by itself', () => refusals.length >= 2, 10000);
      assert(await row.evaluate((el) => el.classList.contains('is-pending') && !el.classList.contains('is-failed')),
        'refused a second time, it still shows as being sent');
      gate.open = true;
      await alice.expectMessage('patience pays', { from: 'alice' });
      await bob.expectMessage('patience pays', { from: 'alice' });
      // The client gives up after 6 refusals in a row; one more may have come
      // between the second refusal and the gate opening.
      assert(refusals.length >= 2 && refusals.length <= 3, `refused ${refusals.length} times, then sent`);
      assert(refusals.every((r) => r.ref === refusals[0].ref), 'sent again with the same ref each time');
      for (let i = 1; i < refusals.length; i += 1) {
        const gap = refusals[i].at - refusals[i - 1].at;
        assert(gap >= 200, `sent again after a pause, not at once (${gap} ms)`);
      }
      for (const who of [alice, bob]) {
        const count = await who.messages('patience pays').count();
        assert(count === 1, `${who.name} sees it ${count} times`);
      }
      assert(!(await page.locator('.toast').count()), 'no error was shown');
    },
  },
  {
    name: 'after a server restart the page reconnects by itself and shows a message sent meanwhile exactly once',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      await alice.send('before the restart');
      await bob.expectMessage('before the restart', { from: 'alice' });

      await world.server.stop('SIGTERM');
      for (const who of [alice, bob]) {
        await who.page.locator('#banner').waitFor();
        assert(/Connection lost|Reconnecting/.test(await who.page.textContent('#banner-text')),
          `${who.name}'s banner says the connection is lost`);
        assert(await who.page.locator('#composer-input').isDisabled(), `${who.name}'s composer is disabled while offline`);
        assert(await who.page.locator('#composer-send').isDisabled(), `${who.name}'s send button is disabled while offline`);
      }
      // Let alice's backoff grow, so that her next attempt comes well after bob's message.
      await until('alice\'s next attempt to be 3 s or more away', async () => (await retryInSecs(alice)) >= 3, 30000);
      await world.server.start();

      // Bob doesn't wait for his backoff: "Retry now".
      await bob.backOnline();
      await bob.send('sent while alice was away');
      await bob.expectMessage('sent while alice was away', { from: 'bob' });
      assert(await alice.page.locator('#banner').isVisible(), 'alice has not reconnected yet when bob\'s message is stored');

      await alice.page.locator('#banner').waitFor({ state: 'hidden', timeout: 20000 });
      await alice.page.locator('#composer-input:enabled').waitFor();
      await alice.expectMessage('sent while alice was away', { from: 'bob' });
      await alice.send('back again');
      await bob.expectMessage('back again', { from: 'alice' });
      await alice.expectMessage('back again', { from: 'alice' });
      for (const text of ['before the restart', 'sent while alice was away']) {
        const count = await alice.messages(text).count();
        assert(count === 1, `alice sees ${JSON.stringify(text)} ${count} times after reconnecting`);
      }
      assert(!(await alice.page.locator('#message-list .is-failed').count()), 'no message is marked as failed');
    },
  },
  {
    name: 'a send whose ack is lost with the connection is sent again on reconnecting and shows once everywhere',
    async run(world) {
      const erin = await world.user('erin');
      const bob = await world.user('bob');
      // A second tab of erin's whose WebSocket goes through a relay that can
      // lose the server's next ack together with the connection.
      const text = 'stored once, acked after a retry';
      const relay = await lossyRelay(erin.context, text);
      const tab = new ChatPage(world, erin.context, await world.newPage(erin.context, 'erin (relayed)'), 'erin');
      await tab.page.goto('/');
      await tab.ready();

      relay.loseNextAck = true;
      await tab.send(text);
      await until('the relay to have reconnected', async () => relay.sockets >= 2);
      for (const who of [tab, bob, erin]) {
        await who.expectMessage(text, { from: 'erin' });
      }
      await bob.send('and the room goes on');
      await tab.expectMessage('and the room goes on', { from: 'bob' });
      for (const who of [tab, bob, erin]) {
        const count = await who.messages(text).count();
        assert(count === 1, `${who.name} sees the message ${count} times`);
      }
      assert(!(await tab.page.locator('#message-list .is-failed').count()), 'nothing is marked as failed');
      const refs = relay.sentRefs;
      assert(refs.length === 2 && refs[0] === refs[1], `the tab sent it again with the same ref: ${JSON.stringify(refs)}`);
      await bob.page.reload();
      await bob.ready();
      await bob.expectMessage(text, { from: 'erin' });
      const stored = await bob.messages(text).count();
      assert(stored === 1, `history holds it ${stored} times`);
    },
  },
  {
    name: 'a send typed before its channel is joined waits for the join and goes out once, typing tells no one until then, and nothing is refused',
    async run(world) {
      const bob = await world.user('bob');
      const dana = await world.user('dana');
      // dana's second tab hears the server's `joined` only when the test lets it.
      const relay = { holding: true, held: [], sends: [], typing: [], joinedAt: -1 };
      await dana.context.routeWebSocket(/\/ws$/, (page) => {
        const server = page.connectToServer();
        page.onMessage((m) => {
          const frame = typeof m === 'string' ? JSON.parse(m) : {};
          if (frame.type === 'send') relay.sends.push(relay.joinedAt);
          if (frame.type === 'typing') relay.typing.push(relay.joinedAt);
          server.send(m);
        });
        server.onMessage((m) => {
          const frame = typeof m === 'string' ? JSON.parse(m) : {};
          if (frame.type === 'joined' && relay.holding) relay.held.push(() => page.send(m));
          else page.send(m);
        });
      });
      const tab = new ChatPage(world, dana.context, await world.newPage(dana.context, 'dana (slow join)'), 'dana');
      await tab.page.goto('/');
      await tab.ready();
      await until('the join to be held', async () => relay.held.length === 1);
      const text = 'typed while the room was still loading';
      await tab.send(text);
      const row = tab.messages(text);
      await until('the send to show as sending', async () => (await row.count()) === 1
        && (await row.first().evaluate((el) => el.classList.contains('is-pending'))));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert(relay.sends.length === 0, 'nothing is sent before the join is answered');
      assert(relay.typing.length === 0, `no typing notice before the join is answered: ${relay.typing}`);
      assert(!(await tab.page.locator('.toast').count()), 'no error shown while the join is on its way');
      relay.holding = false;
      relay.joinedAt = 0;
      relay.held.splice(0).forEach((deliver) => deliver());
      for (const who of [tab, bob, dana]) await who.expectMessage(text, { from: 'dana' });
      assert(relay.sends.length === 1 && relay.sends[0] === 0, `sent once, after the join: ${relay.sends}`);
      assert(!(await tab.page.locator('#message-list .is-failed').count()), 'nothing is marked as failed');
      assert(!(await tab.page.locator('.toast', { hasText: 'Join #general first' }).count()), 'no refusal');
      // Joined now, typing is told.
      await tab.page.fill('#composer-input', 'and one more');
      await until('a typing notice once joined', async () => relay.typing.includes(0));
    },
  },
  {
    name: 'a send unconfirmed for longer than the server recognizes a retry is not sent again but marked for the user to check',
    async run(world) {
      const erin = await world.user('erin');
      const bob = await world.user('bob');
      const text = 'unconfirmed for three minutes';
      const relay = await lossyRelay(erin.context, text);
      await erin.context.clock.install();
      const tab = new ChatPage(world, erin.context, await world.newPage(erin.context, 'erin (relayed)'), 'erin');
      await tab.page.goto('/');
      await tab.ready();

      relay.refuse = true;
      relay.loseNextAck = true;
      await tab.send(text);
      await bob.expectMessage(text, { from: 'erin' });
      await tab.page.locator('#banner').waitFor();
      // The laptop sleeps for three minutes, then finds the network again.
      await erin.context.clock.fastForward('03:00');
      relay.refuse = false;
      await tab.backOnline();
      const unsure = tab.page.locator('#message-list .is-failed', { hasText: 'Not confirmed' });
      await unsure.waitFor();
      assert(relay.sentRefs.length === 1, `sent once, not again: ${JSON.stringify(relay.sentRefs)}`);
      // It was stored: the tab's catch-up shows it above the unconfirmed row.
      const stored = tab.messages(text).and(tab.page.locator(':not(.is-failed)'));
      await stored.waitFor();
      assert(await stored.count() === 1, 'the tab shows the stored message once');
      const shown = await bob.messages(text).count();
      assert(shown === 1, `bob sees it ${shown} times`);
      await unsure.getByRole('button', { name: 'Discard' }).click();
      await until('the unconfirmed row to be gone', async () => !(await unsure.count()));
    },
  },
  {
    name: 'scrolling to the top loads older messages and keeps the reading position',
    async run(world) {
      const texts = Array.from({ length: 70 }, (_, i) => `history message ${String(i + 1).padStart(2, '0')}`);
      await world.post('dave', 'general', texts);
      const bob = await world.user('bob');
      await bob.expectMessage('history message 70', { from: 'dave' });
      const rows = bob.page.locator('#message-list li.msg');
      assert((await rows.count()) === 50, `joining shows the last 50 messages, not ${await rows.count()}`);
      assert(await rows.first().textContent().then((t) => t.includes('history message 21')), 'the first shown is the 21st');

      // Scroll up with the mouse wheel until older messages start loading.
      const scroller = bob.page.locator('#message-scroller');
      const box = await scroller.boundingBox();
      await bob.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await until('older messages to start loading', async () => {
        if ((await rows.count()) > 50 || /Loading older/.test(await bob.page.textContent('#history-status'))) return true;
        await bob.page.mouse.wheel(0, -250);
        return false;
      });
      await until('the 20 older messages', async () => (await rows.count()) === 70);

      const oldestBefore = await bob.messages('history message 21').evaluate(placeInScroller);
      assert(oldestBefore !== null, 'the message at the top before loading is still in view after it');
      const oldest = await bob.messages('history message 01').evaluate(placeInScroller);
      assert(oldest === null, 'the view did not jump to the oldest message');

      // Reading on upwards reaches the start of the channel.
      await until('the start of #general', async () => {
        if (await bob.messages('history message 01').evaluate(placeInScroller)) return true;
        await bob.page.mouse.wheel(0, -400);
        return false;
      });
      await until('the start-of-channel line', async () =>
        (await bob.page.textContent('#history-status')) === 'This is the start of #general.');
      const shown = await bob.page.locator('#message-list li.msg .msg-text').allTextContents();
      assert(JSON.stringify(shown) === JSON.stringify(texts), 'all 70 messages show once, in order');
    },
  },
  {
    name: 'a page away for more than a thousand messages gets every one of them, once and in order, when it is back',
    async run(world) {
      const cable = new Cable();
      const bob = await world.user('bob', { prepare: (context) => cable.attach(context) });
      await world.post('dave', 'general', ['before bob left']);
      await bob.expectMessage('before bob left', { from: 'dave' });

      cable.unplug();
      await bob.page.locator('#banner').waitFor();
      // More than a `since` join returns at once (1,000): the page reads on.
      const texts = Array.from({ length: 1100 }, (_, i) => `while away ${String(i + 1).padStart(4, '0')}`);
      await world.post('dave', 'general', texts, { register: false });
      assert(await bob.page.locator('#banner').isVisible(), 'bob is still offline when the last one is stored');
      const before = await bob.page.locator('#message-list li.msg .msg-text').allTextContents();
      assert(!before.some((t) => t.startsWith('while away')), 'bob got none of them while away');
      cable.plug();
      await bob.backOnline(30000);
      await bob.expectMessage('while away 1100', { from: 'dave' });
      const shown = await bob.page.locator('#message-list li.msg .msg-text').allTextContents();
      const away = shown.filter((t) => t.startsWith('while away'));
      assert(away.length === texts.length, `bob sees ${away.length} of the ${texts.length} messages sent while he was away`);
      assert(JSON.stringify(away) === JSON.stringify(texts), 'each once, in order');
      assert(shown.includes('before bob left'), 'what bob had before stays');
    },
  },
];
