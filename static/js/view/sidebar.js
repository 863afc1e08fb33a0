// The channel list (active channel, unread and mention badges, a lock on
// private channels, a "closed" tag on channels an operator closed), the direct conversations under it by the other
// person's name, the people picker that starts one, and the create-channel
// form (with "Private").

import { state, channel } from '../state.js';
import { kindOf, peerOf } from '../rooms.js';
import { isClosed } from '../operators.js';
import { avatar } from './avatar.js';
import { $, h, showText, svgIcon } from './dom.js';
import { createPicker } from './picker.js';

const CHANNEL_NAME = /^[a-z0-9][a-z0-9_-]{1,49}$/;
const LOCK_PATH = 'M7 11V8a5 5 0 0 1 10 0v3M5.5 11h13v9.5h-13z';

/** A lock icon that says "private" to assistive technology. */
export function lockIcon() {
  const svg = svgIcon(LOCK_PATH, 13);
  return h('span', { class: 'channel-lock', role: 'img', 'aria-label': 'private', title: 'Private channel' }, svg);
}

const shortCount = (n) => (n > 99 ? '99+' : String(n));

/**
 * open(name): make a channel active.
 * create(name, {isPrivate}): resolves with the created channel or throws an Error.
 * users(prefix): resolves with usernames for the people picker.
 * message(user): opens the direct conversation with `user` (resolves once open, or throws).
 */
export function initSidebar({ open, create, users, message }) {
  const list = $('channel-list');
  const dmList = $('dm-list');
  const dmEmpty = $('dm-empty');
  const form = $('channel-form');
  const input = $('channel-name');
  const privateBox = $('channel-private');
  const hint = $('channel-hint');
  const error = $('channel-error');
  const dmNew = $('dm-new');
  const dmPanel = $('dm-picker');
  const dmInput = $('dm-input');
  const buttons = new Map(); // name -> {li, button, closedTag, mention, badge, kind}

  /**
   * A row of the list: `#`, or a lock, or the person's avatar, then the
   * name, the "closed" tag, the mention badge and the unread badge. Rebuilt when the kind
   * becomes known (a channel opened from a link before the list came).
   */
  function row(name, kind) {
    const closedTag = h('span', { class: 'closed-tag', title: 'Closed by an operator', text: 'closed' });
    const mention = h('span', { class: 'mention-badge', title: 'Mentions of you' });
    const badge = h('span', { class: 'unread-badge' });
    const dm = kind === 'dm';
    const mark = dm ? avatar(peerOf(name), 'xs')
      : kind === 'private' ? lockIcon()
        : h('span', { class: 'channel-hash', 'aria-hidden': 'true', text: '#' });
    const button = h('button', {
      type: 'button', class: dm ? 'channel-btn dm-btn' : 'channel-btn', onclick: () => open(name),
    }, mark, h('span', { class: 'channel-name', text: dm ? peerOf(name) : name }), closedTag, mention, badge);
    const li = h('li', {}, button);
    return { li, button, closedTag, mention, badge, kind };
  }

  function update(r, name) {
    const { unread, mentions } = channel(name);
    const active = name === state.active;
    const closed = isClosed(name);
    r.button.classList.toggle('is-active', active);
    r.button.classList.toggle('is-closed', closed);
    r.closedTag.hidden = !closed;
    r.button.classList.toggle('has-unread', unread > 0);
    r.button.classList.toggle('has-mention', mentions > 0);
    if (active) r.button.setAttribute('aria-current', 'page');
    else r.button.removeAttribute('aria-current');
    r.badge.textContent = shortCount(unread);
    r.badge.hidden = unread === 0;
    r.mention.textContent = `@${shortCount(mentions)}`;
    r.mention.hidden = mentions === 0;
    // The button's label replaces its content for screen readers: it says all of it.
    const said = r.kind === 'dm' ? [`${peerOf(name)}, direct message`] : r.kind === 'private' ? [name, 'private'] : [name];
    if (closed) said.push('closed');
    if (unread > 0) said.push(`${unread} unread`);
    if (mentions > 0) said.push(mentions === 1 ? '1 mention of you' : `${mentions} mentions of you`);
    r.button.setAttribute('aria-label', said.join(', '));
  }

  /** Puts the rows of `names` in `ul`, in order, reusing what is there. */
  function place(ul, names) {
    names.forEach((name, i) => {
      const kind = kindOf(name);
      let r = buttons.get(name);
      if (!r || r.kind !== kind) {
        if (r) r.li.remove();
        r = row(name, kind);
        buttons.set(name, r);
      }
      if (ul.children[i] !== r.li) ul.insertBefore(r.li, ul.children[i] || null);
      update(r, name);
    });
  }

  function render() {
    const names = state.channels.map((ch) => ch.name);
    const dms = names.filter((name) => kindOf(name) === 'dm')
      .sort((a, b) => peerOf(a).localeCompare(peerOf(b), undefined, { sensitivity: 'base' }));
    place(list, names.filter((name) => kindOf(name) !== 'dm'));
    place(dmList, dms);
    dmEmpty.hidden = dms.length > 0;
    for (const [name, r] of buttons) {
      if (!names.includes(name)) {
        r.li.remove();
        buttons.delete(name);
      }
    }
  }

  // ---- the people picker: a new direct conversation ----

  function showPicker(show) {
    dmPanel.hidden = !show;
    dmNew.setAttribute('aria-expanded', String(show));
    if (show) dmInput.focus();
    else picker.reset();
  }

  const picker = createPicker({
    input: dmInput,
    list: $('dm-suggestions'),
    status: $('dm-status'),
    search: users,
    choose: async (user) => {
      await message(user);
      showPicker(false);
    },
    escape: () => {
      showPicker(false);
      dmNew.focus();
    },
  });

  dmNew.addEventListener('click', () => showPicker(dmPanel.hidden));

  // ---- the create-channel form ----

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
      const created = await create(name, { isPrivate: privateBox.checked });
      input.value = '';
      privateBox.checked = false;
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
      privateBox.checked = false;
      checkHint();
      showText(error, '');
      showPicker(false);
    },
    focusActive() {
      const r = buttons.get(state.active);
      if (r) r.button.focus();
    },
  };
}
