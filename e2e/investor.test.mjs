// Investor tools: the quote card under the bot's reply to /stock, the chart
// of /chart, the ticker strip of a channel's watchlist (/watch, /unwatch),
// cashtag chips and their quote popover, a price alert mentioning its owner
// once, and screenshots of them in light and dark, at desktop and phone size.

import fs from 'node:fs';
import path from 'node:path';

import { DESKTOP, PHONE, assert, until, contrast } from './client.mjs';

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (text) => new RegExp(`^${escapeRe(text)}$`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The button of a channel in `chat`'s channel list. */
const channelButton = (chat, name) => chat.page.locator('#channel-list .channel-btn', {
  has: chat.page.locator('.channel-name', { hasText: exactly(name) }),
});

/** Creates public channel `name` as `chat` over HTTP. */
async function createOver(chat, name) {
  const res = await chat.context.request.post('/api/channels', { data: { name } });
  assert(res.status() === 201, `create #${name} answered ${res.status()} ${await res.text()}`);
  await channelButton(chat, name).waitFor();
}

/** The one bot row of `chat` that holds `selector` (e.g. a card), once it is there. */
async function botRow(chat, selector, what) {
  const rows = chat.page.locator('#message-list li.msg.is-bot', { has: chat.page.locator(selector) });
  await until(`${chat.name} to see ${what}`, async () => (await rows.count()) === 1);
  return rows.first();
}

/** What a quote card shows, read the way a person (and a screen reader) would. */
function readCard(card) {
  return card.evaluate((el) => {
    const text = (sel) => el.querySelector(sel)?.textContent ?? null;
    const change = el.querySelector('.change');
    return {
      symbol: text('.quote-symbol'),
      price: text('.quote-price'),
      seen: change && change.querySelector('[aria-hidden="true"]')?.textContent,
      said: change && change.querySelector('.visually-hidden')?.textContent,
      dir: change && ['up', 'down', 'flat'].find((d) => change.classList.contains(`is-${d}`)),
      color: change && getComputedStyle(change).color,
      facts: Object.fromEntries([...el.querySelectorAll('.quote-fact')].map((f) => [f.querySelector('dt').textContent, f.querySelector('dd').textContent])),
      when: text('.quote-when time'),
    };
  });
}

/** Channels of an rgb() color. */
const rgb = (color) => color.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);

/** Checks the AAPL.US card as the quote server gives it: $93.42, up 1.43% on the open of $92.10. */
async function expectAaplCard(chat, card, where) {
  const shown = await readCard(card);
  const want = {
    symbol: 'AAPL.US', price: '$93.42', seen: '▲ 1.43%', said: 'up 1.43 percent', dir: 'up', when: '2026-11-27 22:00:09',
  };
  for (const [key, value] of Object.entries(want)) {
    assert(shown[key] === value, `${chat.name} (${where}): the card's ${key} is ${JSON.stringify(shown[key])}, expected ${JSON.stringify(value)}`);
  }
  const facts = { 'Day range': '$91.80 – $94.00', Open: '$92.10', Volume: '41,234,567' };
  for (const [key, value] of Object.entries(facts)) {
    assert(shown.facts[key] === value, `${chat.name} (${where}): ${key} is ${JSON.stringify(shown.facts[key])}, expected ${value}`);
  }
  const [r, g] = rgb(shown.color);
  assert(g > r, `${chat.name} (${where}): a rise is green (${shown.color})`);
}

/** The ticker strip of `chat`: null while hidden, else [{symbol, price, change}]. */
function tickerOf(chat) {
  return chat.page.evaluate(() => {
    const strip = document.getElementById('ticker');
    if (strip.hidden || !strip.offsetHeight) return null;
    return [...strip.querySelectorAll('.ticker-item')].map((item) => ({
      symbol: item.querySelector('.ticker-symbol').textContent,
      price: item.querySelector('.ticker-price').textContent,
      change: item.querySelector('.change .visually-hidden')?.textContent ?? null,
    }));
  });
}

/** Waits until `chat`'s ticker strip shows `symbols` (in order), or (empty) is hidden; returns what it shows. */
async function expectTicker(chat, symbols, what) {
  let shown;
  await until(`${chat.name}'s ticker strip to show ${symbols.join(', ') || 'nothing'} (${what})`, async () => {
    shown = await tickerOf(chat);
    const names = shown ? shown.map((s) => s.symbol) : [];
    return names.join(',') === symbols.join(',') && (symbols.length > 0) === (shown !== null);
  }).catch((err) => {
    throw new Error(`${err.message}; it shows ${JSON.stringify(shown)}`);
  });
  return shown;
}

/** The quote popover of `chat`: its text once it has finished loading. */
async function popoverText(chat) {
  const pop = chat.page.locator('#quote-pop');
  await until(`${chat.name} to see the quote popover loaded`, async () =>
    (await pop.isVisible()) && !(await pop.textContent()).startsWith('Loading'));
  return pop.innerText();
}

export const tests = [
  {
    name: 'investor: /stock=aapl.us shows a quote card with price, change, range and volume for both people, and again after a reload',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      await alice.send('/stock=aapl.us');
      for (const who of [alice, bob]) {
        const row = await who.expectMessage('AAPL.US quote is $93.42 per share', { from: 'stockbot' });
        assert(await row.locator('.quote-card').count() === 1, `${who.name}: one card under the reply`);
        await expectAaplCard(who, row.locator('.quote-card'), 'live');
      }
      // Several codes: a card for each, in order, under one reply.
      await bob.send('/stock=aapl.us,msft.us');
      for (const who of [alice, bob]) {
        const row = await botRow(who, '.quote-row', 'the reply with two cards');
        const cards = row.locator('.quote-card');
        assert(await cards.count() === 2, `${who.name}: two cards`);
        await expectAaplCard(who, cards.nth(0), 'two codes');
        const msft = await readCard(cards.nth(1));
        assert(msft.symbol === 'MSFT.US' && msft.price === '$412.50' && msft.said === 'up 0.61 percent',
          `${who.name}: the MSFT.US card ${JSON.stringify(msft)}`);
      }
      await alice.page.reload();
      await alice.ready();
      const row = await alice.expectMessage('AAPL.US quote is $93.42 per share', { from: 'stockbot' });
      await expectAaplCard(alice, row.locator('.quote-card'), 'history');
      assert(await (await botRow(alice, '.quote-row', 'the two cards from history')).locator('.quote-card').count() === 2,
        'the two cards come back with history');
    },
  },
  {
    name: 'investor: /chart=aapl.us,30 draws a 30-point line with its first and last price and the change; an unknown code gets words and no chart',
    async run(world) {
      const alice = await world.user('alice');
      // What the quote service's daily history says of the last 30 days.
      const history = await (await fetch(world.quotes.historyUrl.replace('{code}', 'aapl.us'))).text();
      const rows = history.trim().split(/\r?\n/).slice(1).map((line) => line.split(','));
      const last30 = rows.slice(-30);
      const [firstDate, , , , firstClose] = last30[0];
      const [lastDate, , , , lastClose] = last30[last30.length - 1];
      const money = (v) => `$${Number(v).toFixed(2)}`;
      const pct = ((Number(lastClose) - Number(firstClose)) / Number(firstClose)) * 100;

      await alice.send('/chart=aapl.us,30');
      const row = await botRow(alice, '.chart-card', 'the chart');
      const chart = row.locator('.chart-card');
      const svg = chart.locator('svg[role="img"]');
      assert(await svg.count() === 1, 'one SVG picture');
      const points = (await svg.locator('polyline.chart-line').getAttribute('points')).trim().split(/\s+/);
      assert(points.length === 30, `the line goes through 30 points, not ${points.length}`);
      const ys = points.map((p) => Number(p.split(',')[1]));
      assert(new Set(ys).size > 5, 'the line goes up and down with the prices');
      const label = await svg.getAttribute('aria-label');
      for (const part of ['AAPL.US', firstDate, lastDate, money(firstClose), money(lastClose)]) {
        assert(label.includes(part), `the chart's accessible name ${JSON.stringify(label)} says ${part}`);
      }
      const shown = await chart.innerText();
      for (const part of [money(firstClose), money(lastClose), firstDate, lastDate, `${Math.abs(pct).toFixed(2)}%`]) {
        assert(shown.includes(part), `the chart card shows ${part}: ${JSON.stringify(shown)}`);
      }
      const said = await chart.locator('.change .visually-hidden').textContent();
      assert(said === `${pct >= 0 ? 'up' : 'down'} ${Math.abs(pct).toFixed(2)} percent`, `the change is spelled out: ${said}`);
      const box = await svg.boundingBox();
      const card = await chart.boundingBox();
      assert(box.width > card.width - 40, `the chart spans the card (${box.width} of ${card.width})`);

      await alice.send('/chart=zzzz.us');
      const answer = alice.page.locator('#message-list li.msg.is-bot', {
        has: alice.page.locator('.msg-text', { hasText: /couldn't find/i }),
      });
      await until('the bot to say it found nothing for ZZZZ.US', async () => (await answer.count()) === 1);
      assert((await answer.locator('.msg-text').textContent()).includes('ZZZZ.US'), 'the answer names the code');
      assert(await answer.locator('.chart-card, svg').count() === 0, 'and draws nothing');
      assert(await alice.page.locator('#message-list .chart-card').count() === 1, 'the only chart is the first one');
    },
  },
  {
    name: 'investor: /watch shows the ticker strip to everyone in the channel at once, /unwatch takes a code off, another channel has none, and a reload keeps it',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      await createOver(alice, 'desk');
      await channelButton(bob, 'desk').waitFor();
      for (const who of [alice, bob]) await expectTicker(who, [], 'nothing watched yet');

      await alice.send('/watch aapl.us,msft.us');
      for (const who of [alice, bob]) {
        const shown = await expectTicker(who, ['AAPL.US', 'MSFT.US'], 'after /watch');
        const prices = await until(`${who.name}'s strip to show both prices`, async () => {
          const now = await tickerOf(who);
          return now && now.every((s) => s.price !== '—') ? now : null;
        }).catch(() => shown);
        assert(prices[0].price === '$93.42' && prices[0].change === 'up 1.43 percent', `${who.name}: AAPL.US ${JSON.stringify(prices[0])}`);
        assert(prices[1].price === '$412.50' && prices[1].change === 'up 0.61 percent', `${who.name}: MSFT.US ${JSON.stringify(prices[1])}`);
      }

      await bob.send('/unwatch msft.us');
      for (const who of [alice, bob]) await expectTicker(who, ['AAPL.US'], 'after /unwatch');

      await bob.openChannel('desk');
      await expectTicker(bob, [], 'in #desk, which watches nothing');
      await bob.openChannel('general');
      await expectTicker(bob, ['AAPL.US'], 'back in #general');

      await alice.page.reload();
      await alice.ready();
      const kept = await expectTicker(alice, ['AAPL.US'], 'after a reload');
      assert(kept[0].price === '$93.42', `the price after a reload: ${kept[0].price}`);
    },
  },
  {
    name: 'investor: the ticker strip reads its quotes again every minute, so a price that moved shows without a reload',
    env: { STOCK_CACHE_SECS: '0' },
    async run(world) {
      // alice's clock is the test's to move: a minute passes at once.
      const alice = await world.user('alice', { prepare: (context) => context.clock.install() });
      const { page } = alice;

      await alice.send('/watch aapl.us');
      await expectTicker(alice, ['AAPL.US'], 'after /watch');
      const priced = (price) => async () => (await tickerOf(alice))?.[0]?.price === price;
      await until('the strip to show $93.42', priced('$93.42'));
      await world.quotes.setClose('aapl.us', 101.25);
      await sleep(1500);
      assert(await priced('$93.42')(), 'before the minute is up, the strip keeps what it read');

      await page.clock.fastForward(60000);
      await until('the strip to show the moved price', priced('$101.25'));
      assert(await page.locator('#banner').isHidden(), 'the connection stayed up');
    },
  },
  {
    name: 'investor: a cashtag is a chip that shows its quote on hover, on a tap at phone width and with the keyboard, and says when there is none',
    async run(world) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      const carol = await world.user('carol', { viewport: PHONE });
      await alice.send('buy $AAPL now, not $5');
      await alice.send('not in code `$MSFT` nor in https://example.com/$MSFT or US$5');
      for (const who of [alice, bob, carol]) {
        const chips = (await who.expectMessage('buy $AAPL now, not $5', { from: 'alice' })).locator('.cashtag');
        assert(await chips.count() === 1, `${who.name}: exactly one chip`);
        assert((await chips.textContent()) === '$AAPL', `${who.name}: the chip is $AAPL`);
        // The row's text is shown without the code span's backticks.
        const quiet = await who.expectMessage('not in code $MSFT nor in https://example.com/$MSFT or US$5', { from: 'alice' });
        assert(await quiet.locator('.cashtag').count() === 0, `${who.name}: no chip in code, in a link or after US`);
      }

      // Hovering with a mouse.
      const chip = bob.messages('buy $AAPL now, not $5').locator('.cashtag');
      await chip.hover();
      assert((await popoverText(bob)).includes('$93.42'), 'bob sees the price in the popover');
      await expectAaplCard(bob, bob.page.locator('#quote-pop .quote-card'), 'popover');
      assert(await chip.getAttribute('aria-expanded') === 'true', 'the chip says it is expanded');
      await bob.page.keyboard.press('Escape');
      await bob.page.locator('#quote-pop').waitFor({ state: 'hidden' });

      // With the keyboard: focus and Enter.
      await chip.focus();
      await chip.press('Enter');
      assert((await popoverText(bob)).includes('$93.42'), 'Enter on the chip shows the quote');
      await bob.page.locator('#composer-input').click();
      await bob.page.locator('#quote-pop').waitFor({ state: 'hidden' });

      // A tap on a phone; a tap elsewhere closes it.
      const tapped = carol.messages('buy $AAPL now, not $5').locator('.cashtag');
      await tapped.tap();
      const text = await popoverText(carol);
      assert(text.includes('$93.42'), `carol sees the card (${JSON.stringify(text)})`);
      const fits = await carol.page.evaluate(() => {
        const box = document.getElementById('quote-pop').getBoundingClientRect();
        return box.left >= 0 && box.right <= document.documentElement.clientWidth && box.top >= 0 && box.bottom <= document.documentElement.clientHeight;
      });
      assert(fits, 'the popover is wholly on the phone\'s screen');
      await carol.page.locator('#channel-title').tap();
      await carol.page.locator('#quote-pop').waitFor({ state: 'hidden' });

      // A code the quote service does not know.
      world.guard.expectHttpError(bob.page, 'GET', '/api/quotes/zzzz.us', 404);
      await alice.send('and $ZZZZ?');
      await bob.messages('and $ZZZZ?').locator('.cashtag').hover();
      const none = await popoverText(bob);
      assert(none === 'No quote for ZZZZ.US', `the popover says there is none: ${JSON.stringify(none)}`);
    },
  },
  {
    name: 'investor: a price alert mentions its owner once when the price crosses it, in another channel than hers',
    env: { STOCK_CACHE_SECS: '1' },
    async run(world) {
      const alice = await world.user('alice');
      await createOver(alice, 'desk');
      await alice.send('/alert aapl.us > 100');
      await botRow(alice, '.msg-text', 'the bot\'s answer to /alert');
      await alice.send('/alerts');
      const list = alice.page.locator('#message-list li.msg.is-bot .msg-text', { hasText: /AAPL\.US/ });
      await until('the list of alerts', async () => (await list.count()) >= 2);
      const listed = await list.last().textContent();
      assert(/\b1\b\D*AAPL\.US[^\n]*100/.test(listed), `the alert is listed, numbered: ${JSON.stringify(listed)}`);

      await alice.openChannel('desk');
      await world.quotes.setClose('aapl.us', 101.15);
      const badge = channelButton(alice, 'general').locator('.mention-badge');
      await until('alice to see @1 on #general', async () => (await badge.isVisible()) && (await badge.textContent()) === '@1', 15000);

      await alice.openChannel('general');
      const text = '@alice AAPL.US is above $100.00 (now $101.15)';
      const row = await alice.expectMessage(text, { from: 'stockbot' });
      assert((await row.getAttribute('class')).includes('is-mention'), 'the alert is highlighted as a mention of alice');
      // Checked every second: a few more checks, and it has fired only the once.
      await sleep(4000);
      const fired = await alice.page.locator('#message-list .msg-text', { hasText: /^@alice AAPL\.US is above/ }).count();
      assert(fired === 1, `the alert fired ${fired} times`);
    },
  },
  {
    name: 'investor: screenshots of the quote card, the chart, the ticker strip and a cashtag, light and dark, desktop and phone',
    async run(world, config) {
      const alice = await world.user('alice');
      const bob = await world.user('bob');
      await alice.send('/watch aapl.us,msft.us');
      await alice.send('/stock=aapl.us');
      await alice.send('/chart=aapl.us,90');
      await bob.send('Thinking of buying more $AAPL before the earnings call.');
      const views = [];
      for (const [viewport, colorScheme] of [[DESKTOP, 'light'], [DESKTOP, 'dark'], [PHONE, 'light'], [PHONE, 'dark']]) {
        const chat = await world.sameUser(alice, { viewport, colorScheme });
        await chat.expectMessage('Thinking of buying more $AAPL before the earnings call.', { from: 'bob' });
        await botRow(chat, '.chart-card', 'the chart');
        await expectTicker(chat, ['AAPL.US', 'MSFT.US'], 'the watchlist');
        views.push({ chat, viewport, colorScheme });
      }
      fs.mkdirSync(config.screenshots, { recursive: true });
      const shot = (file) => path.join(config.screenshots, file);
      for (const { chat, viewport, colorScheme } of views) {
        const where = `${viewport.width}px ${colorScheme}`;
        const { page } = chat;
        assert(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${where}: nothing is wider than the screen`);
        // The changes are legible on their card, in either theme (WCAG AA, 4.5:1).
        for (const change of await page.locator('#message-list .quote-card .change, #message-list .chart-card .change').all()) {
          const [color, background] = await change.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el.closest('.quote-card, .chart-card')).backgroundColor]);
          assert(contrast(color, background) >= 4.5, `${where}: the change ${color} on ${background} reads at ${contrast(color, background).toFixed(2)}:1`);
        }
        const chart = page.locator('#message-list .chart-card');
        const svg = await chart.locator('svg').boundingBox();
        const card = await chart.boundingBox();
        assert(svg.width > card.width - 40 && card.width <= viewport.width, `${where}: the chart fits the message's width`);
        const phone = viewport.width < 500;
        const chip = page.locator('#message-list .msg-text .cashtag');
        await chip.scrollIntoViewIfNeeded();
        if (phone) await chip.tap();
        else await chip.hover();
        await popoverText(chat);
        if (viewport === DESKTOP && colorScheme === 'light') {
          await page.locator('#quote-pop').waitFor();
          const top = await page.locator('#ticker').boundingBox();
          await page.screenshot({ path: shot('investor-ticker.png'), clip: { x: top.x, y: 0, width: top.width, height: top.y + top.height + 8 } });
          const row = await chip.boundingBox();
          const pop = await page.locator('#quote-pop').boundingBox();
          const y = Math.max(0, Math.min(row.y, pop.y) - 12);
          const bottom = Math.max(row.y + row.height, pop.y + pop.height) + 12;
          await page.screenshot({ path: shot('investor-cashtag.png'), clip: { x: top.x, y, width: Math.min(top.width, 720), height: bottom - y } });
          await page.keyboard.press('Escape');
          await page.locator('#quote-pop').waitFor({ state: 'hidden' });
          await (await botRow(chat, '.msg-card .quote-card', 'the card')).screenshot({ path: shot('investor-card.png'), animations: 'disabled' });
          await (await botRow(chat, '.chart-card', 'the chart')).screenshot({ path: shot('investor-chart.png'), animations: 'disabled' });
        } else {
          await chat.screenshot(shot(`investor-${phone ? 'phone' : 'desktop'}-${colorScheme}.png`));
        }
      }
    },
  },
];
