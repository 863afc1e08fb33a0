// Watches pages for anything a person would call broken: console errors,
// uncaught exceptions, dialogs, failed requests and HTTP errors. The only ones
// let through are those a test announced (expectHttpError) and refused
// connections while the test had the server stopped; each console error must
// match one such request by URL and status, or it fails the test.

const RESOURCE_STATUS = /^Failed to load resource: the server responded with a status of (\d{3})\b/;
const RESOURCE_NET = /^Failed to load resource: (net::[A-Z_]+)$/;

export class Guard {
  /** server.wasDownAt(ms) tells whether a refused connection was expected. */
  constructor(server) {
    this.server = server;
    this.problems = [];
    this.expected = []; // [{page, method, path, status, used}]
    this.explained = []; // [{url, reason}] requests that failed as expected
    this.consoleErrors = []; // [{name, text, url}] checked in verify()
  }

  /** Announces that `page` will get one `status` answer to `method path`. */
  expectHttpError(page, method, path, status) {
    this.expected.push({ page, method, path, status, used: false });
  }

  watch(page, name) {
    page.on('pageerror', (err) => this.problems.push(`${name}: uncaught ${err.name}: ${err.message}`));
    page.on('dialog', (dialog) => {
      this.problems.push(`${name}: a ${dialog.type()} dialog opened: ${JSON.stringify(dialog.message())}`);
      dialog.dismiss().catch(() => {});
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') this.consoleErrors.push({ name, text: msg.text(), url: msg.location().url });
    });
    page.on('response', (res) => {
      const status = res.status();
      if (status < 400) return;
      const req = res.request();
      const { pathname } = new URL(res.url());
      const hit = this.expected.find((e) => !e.used && e.page === page && e.method === req.method()
        && e.path === pathname && e.status === status);
      if (hit) {
        hit.used = true;
        this.explained.push({ url: res.url(), reason: String(status) });
      } else {
        this.problems.push(`${name}: unexpected HTTP ${status} for ${req.method()} ${res.url()}`);
      }
    });
    // A request still on its way when the page navigates (a test's reload)
    // is aborted by the browser: that is the navigation, not the app. So is
    // one the page being left started (e.g. on a timer) while the
    // navigation was under way, before the new page took its place.
    const startedAt = new WeakMap();
    const navigations = []; // [{at, committed}]: request numbers of a navigation and of its commit (null until then)
    let seq = 0;
    page.on('request', (req) => {
      seq += 1;
      startedAt.set(req, seq);
      if (req.isNavigationRequest() && req.frame() === page.mainFrame()) navigations.push({ at: seq, committed: null });
    });
    page.on('framenavigated', (frame) => {
      if (frame !== page.mainFrame()) return;
      const pending = navigations.find((n) => n.committed === null);
      if (pending) pending.committed = seq;
    });
    /** Whether request `n` was the page's before a navigation replaced it. */
    const leftBehind = (n) => navigations.some((nav) => n !== nav.at && (nav.committed === null || n <= nav.committed));
    page.on('requestfailed', (req) => {
      const reason = req.failure()?.errorText || 'unknown';
      const cutShort = reason === 'net::ERR_ABORTED' && leftBehind(startedAt.get(req) ?? Infinity);
      if (cutShort || (reason === 'net::ERR_CONNECTION_REFUSED' && this.server.wasDownAt(Date.now()))) {
        this.explained.push({ url: req.url(), reason });
      } else {
        this.problems.push(`${name}: request failed (${reason}): ${req.method()} ${req.url()}`);
      }
    });
    page.on('websocket', (ws) => {
      ws.on('socketerror', (err) => {
        if (!this.server.wasDownAt(Date.now())) this.problems.push(`${name}: WebSocket error: ${err}`);
      });
    });
  }

  /** Pairs console errors with expected failed requests; returns every problem left. */
  verify() {
    const left = [...this.problems];
    for (const { name, text, url } of this.consoleErrors) {
      const m = RESOURCE_STATUS.exec(text) || RESOURCE_NET.exec(text);
      const i = m ? this.explained.findIndex((e) => e.url === url && e.reason === m[1]) : -1;
      if (i >= 0) this.explained.splice(i, 1);
      else left.push(`${name}: console error: ${text}${url ? ` (${url})` : ''}`);
    }
    this.consoleErrors = [];
    for (const e of this.expected.filter((x) => !x.used)) {
      left.push(`expected HTTP ${e.status} for ${e.method} ${e.path} never came`);
    }
    return left;
  }
}
