// Browser notifications of messages that mention us, shown while the tab
// is hidden, once the person allowed them with the "Enable notifications"
// button in the channel list (the page never asks on its own).

import { $ } from './dom.js';
import { isDm, labelOf } from '../rooms.js';

const BODY_CHARS = 200;

const supported = () => typeof Notification === 'function';

/** open(name): opens a channel (clicking a notification goes there). */
export function initNotify({ open }) {
  const button = $('notify-enable');

  /** The button shows only while the browser can still ask. */
  function sync() {
    button.hidden = !supported() || Notification.permission !== 'default';
  }

  button.addEventListener('click', async () => {
    try {
      await Notification.requestPermission();
    } catch {
      // Refused or not available here: the button goes either way.
    }
    sync();
  });
  sync();

  return {
    /** Tells of message `m`, which mentions us, when the tab is hidden and notifications are allowed. */
    mentioned(m) {
      if (!document.hidden || !supported() || Notification.permission !== 'granted') return;
      try {
        const where = isDm(m.channel) ? '' : ` in ${labelOf(m.channel)}`;
        const note = new Notification(`${m.user} mentioned you${where}`, {
          body: m.text.slice(0, BODY_CHARS),
          tag: `mention-${m.id}`,
        });
        note.addEventListener('click', () => {
          window.focus();
          open(m.channel);
          note.close();
        });
      } catch {
        // Some browsers show notifications only from a service worker.
      }
    },
  };
}
