// Panels that collapse on small screens: the channel drawer (left) and its
// button (with a dot while other channels have unread messages), the member
// list (a right drawer when narrow, a collapsible column when wide), the scrim
// behind open drawers, and Escape to close them. onMembersShown(visible) is
// told whenever the member list is shown or hidden.

import { $ } from './dom.js';

const NARROW_SIDEBAR = '(max-width: 720px)';
const NARROW_MEMBERS = '(max-width: 1000px)';

export function initLayout({ onSidebarOpened, onMembersShown = () => {} }) {
  const root = $('chat-screen');
  const sidebarToggle = $('sidebar-toggle');
  const membersToggle = $('members-toggle');
  const scrim = $('scrim');
  const sidebarQuery = window.matchMedia(NARROW_SIDEBAR);
  const membersQuery = window.matchMedia(NARROW_MEMBERS);
  let unread = false;
  let membersShown = null; // as last told to onMembersShown

  const sidebarOpen = () => root.classList.contains('sidebar-open');
  const membersDrawerOpen = () => root.classList.contains('members-open');
  const membersVisible = () => (membersQuery.matches
    ? membersDrawerOpen()
    : !root.classList.contains('members-collapsed'));

  function sync() {
    if (!sidebarQuery.matches) root.classList.remove('sidebar-open');
    if (!membersQuery.matches) root.classList.remove('members-open');
    sidebarToggle.setAttribute('aria-expanded', String(sidebarOpen()));
    const label = sidebarOpen() ? 'Hide channels' : 'Show channels';
    sidebarToggle.setAttribute('aria-label', unread ? `${label} (unread messages)` : label);
    sidebarToggle.classList.toggle('has-unread', unread);
    membersToggle.setAttribute('aria-expanded', String(membersVisible()));
    scrim.hidden = !(sidebarOpen() || membersDrawerOpen());
    const shown = membersVisible();
    if (membersShown !== null && shown !== membersShown) onMembersShown(shown);
    membersShown = shown;
  }

  function closeDrawers(focusBack) {
    const wasSidebar = sidebarOpen();
    const wasMembers = membersDrawerOpen();
    root.classList.remove('sidebar-open', 'members-open');
    sync();
    if (focusBack && wasSidebar) sidebarToggle.focus();
    else if (focusBack && wasMembers) membersToggle.focus();
  }

  sidebarToggle.addEventListener('click', () => {
    const open = !sidebarOpen();
    root.classList.remove('members-open');
    root.classList.toggle('sidebar-open', open);
    sync();
    if (open) onSidebarOpened();
  });

  membersToggle.addEventListener('click', () => {
    if (membersQuery.matches) {
      root.classList.remove('sidebar-open');
      root.classList.toggle('members-open');
    } else {
      root.classList.toggle('members-collapsed');
    }
    sync();
  });

  scrim.addEventListener('click', () => closeDrawers(false));
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && (sidebarOpen() || membersDrawerOpen())) closeDrawers(true);
  });
  sidebarQuery.addEventListener('change', sync);
  membersQuery.addEventListener('change', sync);
  sync();

  return {
    /** Closes drawers after a choice was made in one (e.g. a channel). */
    closeDrawers: () => closeDrawers(false),
    /** Whether the member list is on screen (the column, or the open drawer). */
    membersVisible,
    /** Marks the channel button while some channel has unread messages. */
    setUnread(value) {
      if (value === unread) return;
      unread = value;
      sync();
    },
  };
}
