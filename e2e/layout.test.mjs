// The page itself: security headers, a 375 px phone, the keyboard alone, and
// light and dark themes.

import { PHONE, DESKTOP, assert, until, contrast, luminance } from './client.mjs';

/** True when nothing on the page is wider than the viewport. */
const fitsWidth = () => document.documentElement.scrollWidth <= window.innerWidth
  && document.body.scrollWidth <= window.innerWidth;

/** Presses Tab (or Shift+Tab) until `selector` has the focus; fails after `max` presses. */
async function tabTo(page, selector, { back = false, max = 40 } = {}) {
  for (let i = 0; i < max; i += 1) {
    if (await page.evaluate((sel) => !!document.activeElement && document.activeElement.matches(sel), selector)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`${selector} cannot be reached with ${back ? 'Shift+Tab' : 'Tab'}`);
}

const focusedId = (page) => page.evaluate(() => document.activeElement && document.activeElement.id);

export const tests = [
  {
    name: 'every response carries the security headers and the page runs under its CSP',
    async run(world) {
      const alice = await world.user('alice');
      const request = alice.context.request;
      for (const path of ['/', '/js/main.js', '/css/app.css', '/api/me', '/healthz']) {
        const res = await request.get(path);
        const h = res.headers();
        const csp = h['content-security-policy'] || '';
        for (const part of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) {
          assert(csp.includes(part), `${path}: CSP has ${part} (got ${JSON.stringify(csp)})`);
        }
        assert(!/unsafe-inline|unsafe-eval/.test(csp), `${path}: the CSP allows no inline script or eval`);
        assert(h['x-content-type-options'] === 'nosniff', `${path}: X-Content-Type-Options`);
        assert(h['x-frame-options'] === 'DENY', `${path}: X-Frame-Options`);
        assert(h['referrer-policy'] === 'no-referrer', `${path}: Referrer-Policy`);
      }
      // The guard fails the test on any CSP violation the page logs.
      await alice.send('checking the page under its CSP');
      await alice.expectMessage('checking the page under its CSP', { from: 'alice' });
    },
  },
  {
    name: 'at 375 px the chat fits the screen, with drawers for channels and members',
    async run(world) {
      const bob = await world.user('bob');
      const alice = await world.user('alice', { viewport: PHONE });
      const { page } = alice;
      assert(await page.evaluate(fitsWidth), 'the chat fits 375 px');
      assert(!(await page.locator('#sidebar').isVisible()), 'the channel list starts closed');
      const composer = await page.locator('#composer-input').boundingBox();
      assert(composer && composer.y + composer.height <= PHONE.height, 'the composer is on screen');

      await alice.createChannel('design');
      await until('alice to be in #design', async () => (await page.textContent('#channel-title')) === '# design');
      await until('the drawer to close', async () => !(await page.locator('#sidebar').isVisible()));
      await alice.send(`a long word: ${'x'.repeat(300)}`);
      await alice.expectMessage(`a long word: ${'x'.repeat(300)}`);
      assert(await page.evaluate(fitsWidth), 'a long word wraps instead of widening the page');

      await bob.send('hello phone');
      const toggle = page.locator('#sidebar-toggle');
      await until('the channel button to show unread messages', async () =>
        /unread/.test(await toggle.getAttribute('aria-label'))
        && toggle.evaluate((el) => el.classList.contains('has-unread')).then(Boolean));
      await alice.openChannel('general');
      await alice.expectMessage('hello phone', { from: 'bob' });
      assert(!(await toggle.evaluate((el) => el.classList.contains('has-unread'))), 'the unread dot goes once #general is read');
      await page.click('#members-toggle');
      await page.locator('#members').waitFor({ state: 'visible' });
      await until('the member drawer to list both', async () => (await alice.memberNames()).join(',') === 'alice,bob');
      await page.keyboard.press('Escape');
      await until('the member drawer to close', async () => !(await page.locator('#members').isVisible()));
      assert((await focusedId(page)) === 'members-toggle', 'Escape gives the focus back to the members button');
      assert(await page.evaluate(fitsWidth), 'the chat still fits 375 px');
    },
  },
  {
    name: 'the keyboard alone can register, create and switch channels and send',
    async run(world) {
      const kim = await world.visitor('kim');
      const { page } = kim;
      assert((await focusedId(page)) === 'auth-username', 'the username field has the focus on arrival');
      await tabTo(page, '#auth-tab-register', { back: true });
      await page.keyboard.press('Enter');
      assert((await page.getAttribute('#auth-tab-register', 'aria-pressed')) === 'true', 'Enter picks "Register"');
      await tabTo(page, '#auth-username');
      await page.keyboard.type('kim');
      await page.keyboard.press('Tab');
      await page.keyboard.type('correct horse battery');
      await page.keyboard.press('Enter');
      await kim.ready();

      await until('the composer to have the focus', async () => (await focusedId(page)) === 'composer-input');
      await page.keyboard.type('typed, not clicked');
      await page.keyboard.press('Enter');
      await kim.expectMessage('typed, not clicked', { from: 'kim' });

      await tabTo(page, '#channel-name');
      await page.keyboard.type('keys');
      await page.keyboard.press('Enter');
      await until('#keys to open', async () => (await page.textContent('#channel-title')) === '# keys');
      await tabTo(page, '#composer-input');
      await page.keyboard.type('in #keys');
      await page.keyboard.press('Enter');
      await kim.expectMessage('in #keys', { from: 'kim' });

      await tabTo(page, '#channel-list .channel-btn:not(.is-active)', { back: true });
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert(outline !== 'none', 'the focused channel shows a focus ring');
      await page.keyboard.press('Enter');
      await until('#general to open', async () => (await page.textContent('#channel-title')) === '# general');
      await kim.expectMessage('typed, not clicked', { from: 'kim' });
    },
  },
  {
    name: 'the theme follows the system\'s light or dark preference',
    async run(world) {
      const light = await world.user('alice', { viewport: DESKTOP, colorScheme: 'light' });
      const dark = await world.sameUser(light, { viewport: DESKTOP, colorScheme: 'dark' });
      const colors = (chat) => chat.page.evaluate(() => {
        const body = getComputedStyle(document.body);
        const composer = getComputedStyle(document.querySelector('.composer-box'));
        return { bg: body.backgroundColor, text: body.color, composer: composer.backgroundColor };
      });
      const l = await colors(light);
      const d = await colors(dark);
      assert(luminance(l.bg) > 0.8, `the light theme has a light background (${l.bg})`);
      assert(luminance(d.bg) < 0.1, `the dark theme has a dark background (${d.bg})`);
      assert(contrast(l.text, l.bg) >= 7, `light text contrast ${contrast(l.text, l.bg).toFixed(1)}`);
      assert(contrast(d.text, d.bg) >= 7, `dark text contrast ${contrast(d.text, d.bg).toFixed(1)}`);
      assert(luminance(d.composer) < 0.1, `the dark composer is dark too (${d.composer})`);
    },
  },
];
