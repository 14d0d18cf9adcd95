/**
 * The demo chat page (examples/chat/public/) driven like a user would: a page
 * per person, each in its own browser context, through the page's own forms and
 * buttons. An init script records every `data-state` the status element takes
 * and every event the page's socket receives, so a spec can tell "never
 * received" from "received but not shown".
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { eventually, isolatedPage } from './browser.js';

/** Runs in the page before its scripts: records status states and received events. */
const RECORDER = `(() => {
  window.__chat = { states: [], events: [] };
  document.addEventListener('DOMContentLoaded', () => {
    const el = document.getElementById('status');
    const record = () => window.__chat.states.push(el.dataset.state);
    record();
    new MutationObserver(record).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    socket.onAny((event, ...args) => window.__chat.events.push({ event, args }));
  });
})();`;

/** One event the page's socket received. */
export interface PageEvent {
  readonly event: string;
  readonly args: unknown[];
}

function isPageEvent(value: unknown): value is PageEvent {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PageEvent).event === 'string' &&
    Array.isArray((value as PageEvent).args)
  );
}

/** One person's chat page. */
export class ChatPage {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly nick: string,
    /**
     * Uncaught page errors, console errors other than Chromium's "Failed to load
     * resource" (those are covered by the HTTP statuses), and answers of 400 or
     * more (but a missing /favicon.ico).
     */
    readonly pageErrors: string[],
    /** URLs of the WebSockets the page opened. */
    readonly websockets: string[],
    /** Every answer of 400 or more, `/favicon.ico` included, as `<status> <url>`. */
    readonly failedResponses: string[],
    /** Every console error, Chromium's "Failed to load resource" lines included. */
    readonly consoleErrors: string[],
    /** The messages of the dialogs (`alert`, `confirm`, `prompt`) the page opened; each is dismissed. */
    readonly dialogs: string[],
  ) {}

  /** Opens `origin/?nick=<nick>&<query>` in a fresh context and waits until it is connected. */
  static async open(browser: Browser, origin: string, nick: string, query = ''): Promise<ChatPage> {
    const { context, page } = await isolatedPage(browser);
    await context.addInitScript(RECORDER);
    const pageErrors: string[] = [];
    const websockets: string[] = [];
    const failedResponses: string[] = [];
    const consoleErrors: string[] = [];
    const dialogs: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      consoleErrors.push(message.text());
      if (!message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() < 400) return;
      failedResponses.push(`${response.status()} ${response.url()}`);
      if (new URL(response.url()).pathname !== '/favicon.ico')
        pageErrors.push(`${response.status()} ${response.url()}`);
    });
    page.on('websocket', (ws) => websockets.push(ws.url()));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const chat = new ChatPage(
      context,
      page,
      nick,
      pageErrors,
      websockets,
      failedResponses,
      consoleErrors,
      dialogs,
    );
    await page.goto(`${origin}/?nick=${encodeURIComponent(nick)}${query ? `&${query}` : ''}`);
    await chat.waitForStatus('connected', `connected as ${nick}`);
    return chat;
  }

  /** The status element's `data-state`. */
  state(): Promise<string | null> {
    return this.page.locator('#status').getAttribute('data-state');
  }

  /** The status element's text. */
  async statusText(): Promise<string> {
    return (await this.page.locator('#status').textContent()) ?? '';
  }

  /** Waits until the status element shows `state` (and `text`, when given). */
  async waitForStatus(state: string, text?: string, ms = 5000): Promise<void> {
    await eventually(
      `${this.nick}'s status to be ${state}${text === undefined ? '' : ` "${text}"`}`,
      async () => ({ state: await this.state(), text: await this.statusText() }),
      (seen) => seen.state === state && (text === undefined || seen.text === text),
      ms,
    );
  }

  /** Every `data-state` the status element has taken since the page loaded (or the last clear). */
  async recordedStates(): Promise<string[]> {
    const states = await this.page.evaluate<unknown>('window.__chat.states');
    return Array.isArray(states) ? states.map(String) : [];
  }

  /** Forgets the recorded states. */
  async clearRecordedStates(): Promise<void> {
    await this.page.evaluate<unknown>('window.__chat.states.length = 0');
  }

  /** Every event the page's socket has received. */
  async receivedEvents(): Promise<PageEvent[]> {
    const events = await this.page.evaluate<unknown>('window.__chat.events');
    return Array.isArray(events) ? events.filter(isPageEvent) : [];
  }

  /** The texts of the `chat` events received so far. */
  async receivedChatTexts(): Promise<string[]> {
    return (await this.receivedEvents())
      .filter((e) => e.event === 'chat')
      .map((e) => String((e.args[0] as { text?: unknown } | undefined)?.text));
  }

  /** The name of the transport the page's socket uses now. */
  async transport(): Promise<string> {
    return String(await this.page.evaluate<unknown>('socket.io.engine.transport.name'));
  }

  /** Joins a room with the join form; resolves once its tab is the active one. */
  async join(room: string): Promise<void> {
    await this.page.locator('#room-name').fill(room);
    await this.page.locator('#join-form button[type="submit"]').click();
    await this.page.locator(`#tabs button.active[data-room="${room}"]`).waitFor();
  }

  /** Submits `room` with the join form, without waiting for anything. */
  async submitRoom(room: string): Promise<void> {
    await this.page.locator('#room-name').fill(room);
    await this.page.locator('#join-form button[type="submit"]').click();
  }

  /** The sidebar's button for `room` ("Join" or "Leave"). */
  async roomButton(room: string): Promise<string> {
    return (await this.page.locator(`#rooms li[data-room="${room}"] button`).textContent()) ?? '';
  }

  /** The join form's inline error, or null while it is hidden. */
  async joinError(): Promise<string | null> {
    const error = this.page.locator('#join-error');
    return (await error.isVisible()) ? ((await error.textContent()) ?? '') : null;
  }

  /** The names of the room tabs. */
  tabs(): Promise<string[]> {
    return this.page.locator('#tabs button').allTextContents();
  }

  /** The room tab shown. */
  async currentRoom(): Promise<string> {
    return (await this.page.locator('#tabs button.active').textContent()) ?? '';
  }

  /** Sends `text` to the current room with the Send button; resolves with the sender's own line. */
  async say(text: string): Promise<Locator> {
    await this.page.locator('#text').fill(text);
    await this.page.locator('#send').click();
    return this.line(text);
  }

  /** Sends `text` to everyone with the Broadcast button. */
  async broadcast(text: string): Promise<void> {
    await this.page.locator('#text').fill(text);
    await this.page.locator('#shout').click();
  }

  /** The message-list line containing `text`. */
  line(text: string): Locator {
    return this.page.locator('#messages li', { hasText: text });
  }

  /** Waits until a line containing `text` is shown; resolves with it. */
  async waitForLine(text: string, ms = 5000): Promise<Locator> {
    const line = this.line(text);
    await line.first().waitFor({ timeout: ms });
    return line;
  }

  /** The text of every line of the message list. */
  messages(): Promise<string[]> {
    return this.page.locator('#messages li').allTextContents();
  }

  /** The typing indicator's text. */
  async typingText(): Promise<string> {
    return (await this.page.locator('#typing').textContent()) ?? '';
  }

  /** Types one character into the message box (fires the page's input handler). */
  async typeCharacter(character: string): Promise<void> {
    await this.page.locator('#text').pressSequentially(character);
  }

  /** Empties the message box. */
  async clearText(): Promise<void> {
    await this.page.locator('#text').fill('');
  }

  /** Closes the page's context. */
  async close(): Promise<void> {
    await this.context.close();
  }
}
