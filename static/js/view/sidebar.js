// The channel list (active channel, unread and mention badges) and the
// create-channel form.

import { state, channel } from '../state.js';
import { $, h, showText } from './dom.js';

const CHANNEL_NAME = /^[a-z0-9][a-z0-9_-]{1,49}$/;

/**
 * open(name): make a channel active.
 * create(name): resolves with the created channel or throws an Error.
 */
export function initSidebar({ open, create }) {
  const list = $('channel-list');
  const form = $('channel-form');
  const input = $('channel-name');
  const hint = $('channel-hint');
  const error = $('channel-error');
  const buttons = new Map(); // name -> {li, button, mention, badge}

  function row(name) {
    const mention = h('span', { class: 'mention-badge', title: 'Mentions of you' });
    const badge = h('span', { class: 'unread-badge' });
    const button = h('button', {
      type: 'button', class: 'channel-btn', onclick: () => open(name),
    }, h('span', { class: 'channel-hash', 'aria-hidden': 'true', text: '#' }),
    h('span', { class: 'channel-name', text: name }), mention, badge);
    const li = h('li', {}, button);
    return { li, button, mention, badge };
  }

  const shortCount = (n) => (n > 99 ? '99+' : String(n));

  function render() {
    const names = state.channels.map((ch) => ch.name);
    names.forEach((name, i) => {
      let r = buttons.get(name);
      if (!r) {
        r = row(name);
        buttons.set(name, r);
      }
      if (list.children[i] !== r.li) list.insertBefore(r.li, list.children[i] || null);
      const { unread, mentions } = channel(name);
      const active = name === state.active;
      r.button.classList.toggle('is-active', active);
      r.button.classList.toggle('has-unread', unread > 0);
      r.button.classList.toggle('has-mention', mentions > 0);
      if (active) r.button.setAttribute('aria-current', 'page');
      else r.button.removeAttribute('aria-current');
      r.badge.textContent = shortCount(unread);
      r.badge.hidden = unread === 0;
      r.mention.textContent = `@${shortCount(mentions)}`;
      r.mention.hidden = mentions === 0;
      const said = [name];
      if (unread > 0) said.push(`${unread} unread`);
      if (mentions > 0) said.push(mentions === 1 ? '1 mention of you' : `${mentions} mentions of you`);
      r.button.setAttribute('aria-label', said.join(', '));
    });
    for (const [name, r] of buttons) {
      if (!names.includes(name)) {
        r.li.remove();
        buttons.delete(name);
      }
    }
  }

  function checkHint() {
    const value = input.value;
    const bad = value.length > 0 && !CHANNEL_NAME.test(value);
    hint.classList.toggle('is-warning', bad);
    if (bad) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  input.addEventListener('input', () => {
    checkHint();
    showText(error, '');
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = input.value.trim();
    if (!name) {
      showText(error, 'Enter a channel name.');
      input.focus();
      return;
    }
    const submitButton = form.querySelector('button[type="submit"]');
    submitButton.disabled = true;
    try {
      const created = await create(name);
      input.value = '';
      checkHint();
      showText(error, '');
      open(created && created.name ? created.name : name);
    } catch (err) {
      showText(error, err && err.message ? err.message : 'Could not create the channel.');
    } finally {
      submitButton.disabled = false;
    }
  });

  return {
    render,
    reset() {
      input.value = '';
      checkHint();
      showText(error, '');
    },
    focusActive() {
      const r = buttons.get(state.active);
      if (r) r.button.focus();
    },
  };
}
