/**
 * A login through a real HTML form in headless Chromium: the Express app of
 * spec/helpers/login-server.ts (express-session, passport-local) with
 * Socket.IO on the same server. After logging in, the browser's session cookie
 * carries the user to the connect handler, which greets them by name; a
 * browser that has not logged in is refused with the handler's message; a
 * wrong password never reaches the chat. A screenshot goes to
 * spec/artifacts/login.png.
 */
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { eventually, isolatedPage, launchChromium, screenshot } from '../helpers/browser.js';
import type { IsolatedPage } from '../helpers/browser.js';
import { startLoginServer } from '../helpers/login-server.js';
import type { LoginServer } from '../helpers/login-server.js';

/** The chat page's status line, once it is no longer "connecting". */
function statusOf(page: Page): Promise<string> {
  return eventually(
    'the status line',
    () => page.locator('#status').innerText(),
    (text) => text !== 'connecting',
  );
}

describe('logging in through a form in Chromium', function () {
  this.timeout(30_000);
  let browser: Browser;
  let app: LoginServer;
  const pages: IsolatedPage[] = [];
  const fresh = async (): Promise<Page> => {
    const opened = await isolatedPage(browser);
    pages.push(opened);
    return opened.page;
  };

  before(async function () {
    [browser, app] = await Promise.all([launchChromium(), startLoginServer('event-loop')]);
  });
  afterEach(async function () {
    for (const { context } of pages.splice(0)) await context.close();
  });
  after(async function () {
    await browser.close();
    await app.stop();
  });

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${app.origin}/login`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL(/\/(chat|login\?failed)$/), page.click('#login')]);
  }

  it('greets the user the form logged in, over the browser’s session cookie', async function () {
    const page = await fresh();
    await logIn(page, 'alice', 'wonderland');
    expect(new URL(page.url()).pathname).to.equal('/chat');
    expect(await statusOf(page)).to.equal('hello Alice');
    const shot = await screenshot(page, 'login.png');
    expect(shot.bytes.length).to.be.greaterThan(1000);
  });

  it('refuses a browser that has not logged in, with the connect handler’s message', async function () {
    const page = await fresh();
    await page.goto(`${app.origin}/chat`);
    expect(await statusOf(page)).to.equal('refused: login required');
  });

  it('keeps a wrong password out of the chat', async function () {
    const page = await fresh();
    await logIn(page, 'alice', 'not her password');
    expect(new URL(page.url()).search).to.equal('?failed');
    await page.goto(`${app.origin}/chat`);
    expect(await statusOf(page)).to.equal('refused: login required');
  });
});
