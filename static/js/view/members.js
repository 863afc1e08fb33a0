// The members panel of the active channel: its people with their roles
// (GET …/members: everyone in a private channel or DM, those with a role in
// a public one) together with whoever is present now (joined and presence
// frames), a dot on those present. For the owner and moderators: an invite
// field (private channels), "Make moderator", "Make member" (the owner,
// for moderators), "Remove" or "Ban" (asked twice), and the banned list
// with "Lift ban" (public channels). The owner is never acted on, nor is
// oneself. What the server refuses is said in the panel.

import { state, channel, isMe, sameUser } from '../state.js';
import { canManage, isDm, isPrivate, learnRole, roleOf } from '../rooms.js';
import { avatar } from './avatar.js';
import { $, h, showText } from './dom.js';
import { createPicker } from './picker.js';

/** How long a "Ban"/"Remove" waits for its confirming second press. */
const ARMED_MS = 5000;

const byName = (a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' });

/**
 * people: {members(name), bans(name), users(prefix), invite(name, user),
 * setRole(name, user, role), remove(name, user), liftBan(name, user)},
 * each a promise that throws an Error with the server's message.
 */
export function initMembers(people) {
  const list = $('member-list');
  const title = $('members-title');
  const count = $('members-count');
  const toggle = $('members-toggle');
  const error = $('members-error');
  const inviteForm = $('invite-form');
  const banList = $('ban-list');
  const bansTitle = $('bans-title');
  // What the server said of the active channel: {name, roles: [{user, role}], bans: [{user, by}]}.
  let roster = { name: null, roles: [], bans: [] };
  let asked = 0;
  let armed = null; // {key, timer}: a removal waiting for its second press
  let managing = false; // whether the controls were shown for the active channel

  /** Reads the people (and, for those who may see it, the banned list) of the active channel again. */
  async function refresh() {
    const name = state.active;
    if (!name) return;
    const n = ++asked;
    const withBans = canManage(name) && !isPrivate(name);
    try {
      const [roles, bans] = await Promise.all([people.members(name), withBans ? people.bans(name) : []]);
      if (n !== asked || state.active !== name) return;
      roster = { name, roles, bans };
      const mine = roles.find((r) => isMe(r.user));
      learnRole(name, mine ? mine.role : null);
      render();
    } catch (err) {
      if (n !== asked || state.active !== name) return;
      showText(error, err.message);
    }
  }

  /** Runs one of the controls' requests: the panel says what went wrong, and reads the people again. */
  async function act(run) {
    showText(error, '');
    try {
      await run();
    } catch (err) {
      showText(error, err.message);
    }
    await refresh();
  }

  function disarm() {
    if (!armed) return;
    clearTimeout(armed.timer);
    armed = null;
  }

  /** A button that acts on the second press only ("Ban" becomes "Confirm ban"). */
  function guarded(key, label, ariaLabel, run) {
    const isArmed = armed && armed.key === key;
    return h('button', {
      type: 'button',
      class: isArmed ? 'member-action is-danger is-armed' : 'member-action is-danger',
      'aria-label': isArmed ? `Confirm: ${ariaLabel}` : ariaLabel,
      text: isArmed ? `Confirm ${label.toLowerCase()}` : label,
      onclick: () => {
        if (armed && armed.key === key) {
          disarm();
          act(run);
          return;
        }
        disarm();
        armed = { key, timer: setTimeout(() => { armed = null; render(); }, ARMED_MS) };
        render();
        const again = list.querySelector('.is-armed') || banList.querySelector('.is-armed');
        if (again) again.focus();
      },
    });
  }

  function action(label, ariaLabel, run) {
    return h('button', { type: 'button', class: 'member-action', 'aria-label': ariaLabel, text: label, onclick: () => act(run) });
  }

  /** The controls the caller has over `user` (whose role there is `role`) in channel `name`. */
  function controls(name, user, role) {
    if (!canManage(name) || isMe(user) || role === 'owner') return null;
    const mine = roleOf(name);
    const out = [];
    if (role === 'moderator') {
      if (mine !== 'owner') return null; // only the owner changes or removes a moderator
      out.push(action('Make member', `Make ${user} a member`, () => people.setRole(name, user, 'member')));
    } else {
      out.push(action('Make moderator', `Make ${user} a moderator`, () => people.setRole(name, user, 'moderator')));
    }
    const removal = isPrivate(name) ? 'Remove' : 'Ban';
    const says = isPrivate(name) ? `Remove ${user} from #${name}` : `Ban ${user} from #${name}`;
    out.push(guarded(`remove:${user}`, removal, says, () => people.remove(name, user)));
    return h('span', { class: 'member-actions' }, out);
  }

  function personRow(name, user, role, present) {
    return h('li', { class: present ? 'member is-present' : 'member' },
      h('span', { class: 'member-avatar' }, avatar(user, 'sm'),
        present ? h('span', { class: 'presence-dot', title: 'Here now' }) : null),
      h('span', { class: 'member-who' },
        h('span', { class: 'member-name', text: user }),
        isMe(user) ? h('span', { class: 'member-you', text: '(you)' }) : null,
        role === 'owner' || role === 'moderator' ? h('span', { class: `role-badge role-${role}`, text: role }) : null),
      controls(name, user, role));
  }

  /**
   * Everyone to list: those the server named (with their roles) and those
   * present, once each; in a DM and a private channel only members are
   * present anyway.
   */
  function listed(name) {
    const present = [...channel(name).members];
    const roles = roster.name === name ? roster.roles : [];
    const all = new Map();
    for (const { user, role } of roles) all.set(user.toLowerCase(), { user, role, present: false });
    for (const user of present) {
      const known = all.get(user.toLowerCase());
      if (known) known.present = true;
      else all.set(user.toLowerCase(), { user, role: null, present: true });
    }
    return [...all.values()].sort((a, b) => byName(a.user, b.user));
  }

  function renderBans(name) {
    const show = canManage(name) && !isPrivate(name) && !isDm(name) && roster.name === name && roster.bans.length > 0;
    bansTitle.hidden = !show;
    banList.hidden = !show;
    if (!show) {
      banList.replaceChildren();
      return;
    }
    const bans = [...roster.bans].sort((a, b) => byName(a.user, b.user));
    banList.replaceChildren(...bans.map(({ user, by }) => h('li', { class: 'member is-banned' },
      h('span', { class: 'member-avatar' }, avatar(user, 'sm')),
      h('span', { class: 'member-who' },
        h('span', { class: 'member-name', text: user }),
        typeof by === 'string' && by ? h('span', { class: 'member-by', text: `by ${by}` }) : null),
      h('span', { class: 'member-actions' },
        action('Lift ban', `Lift the ban of ${user}`, () => people.liftBan(name, user))))));
  }

  function render() {
    const name = state.active;
    const rows = name ? listed(name) : [];
    title.textContent = `Members — ${rows.length}`;
    count.textContent = rows.length ? String(rows.length) : '';
    toggle.setAttribute('aria-label', `Members (${rows.length})`);
    const keep = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.getAttribute('aria-label') : null;
    list.replaceChildren(...rows.map(({ user, role, present }) => personRow(name, user, role, present)));
    // A re-render keeps the focus on the control it was on (same label).
    if (keep) {
      const again = [...list.querySelectorAll('button')].find((b) => b.getAttribute('aria-label') === keep);
      if (again) again.focus();
    }
    inviteForm.hidden = !(name && canManage(name) && isPrivate(name));
    renderBans(name);
  }

  const invite = createPicker({
    input: $('invite-input'),
    list: $('invite-suggestions'),
    status: $('invite-status'),
    search: people.users,
    exclude: () => (state.active ? listed(state.active).filter((p) => p.role).map((p) => p.user) : []),
    choose: async (user) => {
      const name = state.active;
      await people.invite(name, user);
      invite.say(`${user} was invited.`);
      await refresh();
    },
  });
  inviteForm.addEventListener('submit', (ev) => ev.preventDefault());

  return {
    render(topics) {
      if (topics.has('active')) {
        disarm();
        showText(error, '');
        invite.reset();
        roster = { name: null, roles: [], bans: [] };
        managing = !!state.active && canManage(state.active);
        render();
        refresh();
        return;
      }
      const manageNow = !!state.active && canManage(state.active);
      if (manageNow !== managing || topics.has('roles')) {
        // Our role changed: the controls (and what we may read) change with it.
        managing = manageNow;
        render();
        refresh();
        return;
      }
      if (topics.has('members')) {
        const name = state.active;
        // Someone new is present in a private channel: invited by someone else; read the roles again.
        const fresh = name && isPrivate(name) && roster.name === name
          && [...channel(name).members].some((u) => !roster.roles.some((r) => sameUser(r.user, u)));
        render();
        if (fresh) refresh();
      }
    },
  };
}
