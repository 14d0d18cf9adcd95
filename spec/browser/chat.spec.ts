/**
 * The demo chat (examples/chat/) in headless Chromium, driven through its page:
 * two people in a room exchange messages, a third in another room receives
 * none of them, acks become delivered ticks, a broadcast reaches everyone, the
 * typing indicator shows on the other page, a server restart is shown as
 * disconnected/reconnecting and then connected again, and the same room flow
 * works over long-polling only. The sidebar offers "Leave" for a room once
 * joined, a bad room name is shown beside the form (no dialog), the controls
 * fit the viewport at 400 and 1280 px wide, and nothing answers 404. Screenshots
 * go to spec/artifacts/ (chat.png, chat-400.png, chat-1280.png).
 * One browser and one server for the file; each page has a context of its own.
 */
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createChat } from '../../examples/chat/server.js';
import type { SocketIO } from '../../lib/index.js';
import { PNG_SIGNATURE, eventually, launchChromium, screenshot } from '../helpers/browser.js';
import { ChatPage } from '../helpers/chat-page.js';

interface RunningChat {
  readonly io: SocketIO;
  readonly port: number;
  readonly origin: string;
}

async function startChat(port = 0): Promise<RunningChat> {
  const io = createChat();
  const address = await io.run(undefined, { host: '127.0.0.1', port });
  return { io, port: address.port, origin: `http://127.0.0.1:${address.port}` };
}

/** A control that is not wholly inside the viewport, as `selector: box`; null when it is. */
async function outsideViewport(page: Page, selector: string): Promise<string | null> {
  const viewport = page.viewportSize();
  const box = await page.locator(selector).boundingBox();
  if (viewport === null || box === null) return `${selector}: not shown`;
  const inside =
    box.x >= 0 &&
    box.y >= 0 &&
    box.width > 0 &&
    box.height > 0 &&
    box.x + box.width <= viewport.width + 0.5 &&
    box.y + box.height <= viewport.height + 0.5;
  return inside ? null : `${selector}: ${JSON.stringify(box)} in ${JSON.stringify(viewport)}`;
}

describe('chat page in Chromium', function () {
  this.timeout(30_000);
  let browser: Browser;
  let chat: RunningChat;
  let ann: ChatPage;
  let bob: ChatPage;
  let cid: ChatPage;

  before(async function () {
    [browser, chat] = await Promise.all([launchChromium(), startChat()]);
    [ann, bob, cid] = await Promise.all([
      ChatPage.open(browser, chat.origin, 'ann'),
      ChatPage.open(browser, chat.origin, 'bob'),
      ChatPage.open(browser, chat.origin, 'cid'),
    ]);
  });

  after(async function () {
    await browser?.close();
    await chat?.io.stop();
  });

  it('connects each page with its nickname in the lobby', async function () {
    for (const page of [ann, bob, cid]) {
      expect(await page.state()).to.equal('connected');
      expect(await page.statusText()).to.equal(`connected as ${page.nick}`);
      expect(await page.page.locator('#nick').inputValue()).to.equal(page.nick);
      expect(await page.currentRoom()).to.equal('lobby');
      expect(await page.page.locator('#rooms li[data-room="lobby"]').count()).to.equal(1);
    }
  });

  it('delivers messages between two pages in a room, not to a page in another room', async function () {
    await ann.join('kitchen');
    await bob.join('kitchen');
    await cid.join('garage');
    expect(await ann.tabs()).to.deep.equal(['lobby', 'kitchen']);
    expect(await cid.tabs()).to.deep.equal(['lobby', 'garage']);
    // ann was in the kitchen first: she is told bob joined it.
    await ann.waitForLine('bob joined');

    const annLine = await ann.say('hello bob');
    const atBob = await bob.waitForLine('hello bob');
    expect(await atBob.locator('.nick').textContent()).to.equal('ann');
    expect(await atBob.getAttribute('class')).to.equal('message');

    // The sender's own line turns from pending to delivered when the ack arrives.
    await eventually(
      "ann's delivered tick",
      async () => ({
        className: await annLine.getAttribute('class'),
        tick: await annLine.locator('.tick').textContent(),
      }),
      (seen) => seen.className === 'message delivered' && seen.tick === '✓',
    );
    expect(await annLine.count()).to.equal(1);
    expect(await annLine.locator('.nick').textContent()).to.equal('ann');

    const bobLine = await bob.say('hi ann');
    const atAnn = await ann.waitForLine('hi ann');
    expect(await atAnn.locator('.nick').textContent()).to.equal('bob');
    await eventually(
      "bob's delivered tick",
      () => bobLine.locator('.tick').textContent(),
      (tick) => tick === '✓',
    );
    expect(await bobLine.getAttribute('class')).to.equal('message delivered');

    // Both lines reached the kitchen. cid's own round trip through the server comes
    // after them, so anything sent to cid before it has arrived by the time it is acked.
    const cidLine = await cid.say('anyone in the garage?');
    await eventually(
      "cid's delivered tick",
      () => cidLine.locator('.tick').textContent(),
      (tick) => tick === '✓',
    );
    const cidMessages = await cid.messages();
    expect(cidMessages.some((m) => m.includes('hello bob') || m.includes('hi ann'))).to.equal(
      false,
    );
    expect(cidMessages.some((m) => m.includes('anyone in the garage?'))).to.equal(true);
    // Not merely hidden: cid's socket never received them.
    expect(await cid.receivedChatTexts()).to.deep.equal(['anyone in the garage?']);
    // And the garage line did not reach the kitchen.
    expect(await ann.receivedChatTexts()).to.not.include('anyone in the garage?');
    expect(await bob.receivedChatTexts()).to.not.include('anyone in the garage?');
  });

  it('shows the typing indicator on the other page of the room', async function () {
    // Typing ann's last message is shown for 2 s: start from an empty indicator.
    await eventually(
      "bob's typing indicator to be empty",
      () => bob.typingText(),
      (text) => text === '',
    );
    // The page sends at most one typing event a second: type until bob sees it.
    await eventually(
      "bob's typing indicator",
      async () => {
        await ann.typeCharacter('x');
        return bob.typingText();
      },
      (text) => text === 'ann is typing…',
      6000,
    );
    await ann.clearText();
    // It is not shown to the typist, nor in another room.
    expect(await ann.typingText()).to.not.include('ann');
    expect(await cid.typingText()).to.equal('');
    expect((await cid.receivedEvents()).filter((e) => e.event === 'typing')).to.deep.equal([]);
    // It goes away by itself.
    await eventually(
      "bob's typing indicator to clear",
      () => bob.typingText(),
      (text) => text === '',
      5000,
    );
  });

  it('delivers a broadcast to all three pages, whatever their room', async function () {
    await ann.broadcast('hello everyone');
    for (const page of [ann, bob, cid]) {
      const line = await page.waitForLine('hello everyone');
      expect(await line.locator('em').textContent()).to.equal('(everyone)');
      expect(await line.locator('.nick').textContent()).to.equal('ann');
    }
    expect(await ann.page.locator('#text').inputValue()).to.equal('');
  });

  it('offers "Leave", not "Join", for a room as soon as the join is acknowledged', async function () {
    expect(await ann.roomButton('kitchen')).to.equal('Leave');
    // A room nobody else joins after: no later 'rooms' broadcast redraws the list for us.
    await bob.join('pantry');
    expect(await bob.roomButton('pantry')).to.equal('Leave');
    expect(
      await bob.page.locator('#rooms li[data-room="pantry"] button.secondary').count(),
    ).to.equal(1);
    // The others see it offered as "Join".
    await eventually(
      "the pantry in cid's room list",
      () => cid.roomButton('pantry'),
      (text) => text === 'Join',
    );
    // Leaving redraws it as "Join" again.
    await bob.page.locator('#rooms li[data-room="pantry"] button').click();
    await eventually(
      "bob's pantry button after leaving",
      () => bob.roomButton('pantry'),
      (text) => text === 'Join',
    );
    expect(await bob.tabs()).to.deep.equal(['lobby', 'kitchen']);
    // Back to the kitchen tab, where the restart test below expects bob.
    await bob.page.locator('#tabs button[data-room="kitchen"]').click();
    expect(await bob.currentRoom()).to.equal('kitchen');
  });

  it('shows an invalid room name as an inline error, with no dialog', async function () {
    await cid.submitRoom('no/slashes!');
    const error = await eventually(
      "cid's inline join error",
      () => cid.joinError(),
      (text) => text !== null,
    );
    expect(error).to.equal('room names are 1-32 letters, digits, spaces or -');
    expect(await cid.page.locator('#room-name').getAttribute('aria-invalid')).to.equal('true');
    expect(cid.dialogs).to.deep.equal([]);
    expect(await cid.tabs()).to.deep.equal(['lobby', 'garage']);
    // Typing again clears it, and a good name joins.
    await cid.page.locator('#room-name').pressSequentially('shed');
    expect(await cid.joinError()).to.equal(null);
    await cid.page.locator('#join-form button[type="submit"]').click();
    await cid.page.locator('#tabs button.active[data-room="shed"]').waitFor();
    expect(await cid.joinError()).to.equal(null);
    expect(cid.dialogs).to.deep.equal([]);
  });

  for (const width of [400, 1280]) {
    it(`fits the message box, Send button and room list in a ${width} px viewport (spec/artifacts/chat-${width}.png)`, async function () {
      const page = ann.page;
      const before = page.viewportSize();
      await page.setViewportSize({ width, height: 720 });
      try {
        const shot = await screenshot(page, `chat-${width}.png`);
        expect(shot.bytes.subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
        const missing = [];
        for (const selector of ['#text', '#send', '#rooms', '#messages', '#room-name'])
          missing.push(await outsideViewport(page, selector));
        expect(missing.filter((m) => m !== null)).to.deep.equal([]);
        // No sideways scrolling, and the full-page screenshot is the viewport's width.
        const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
        expect(scrollWidth).to.be.at.most(width);
        expect(shot.bytes.readUInt32BE(16)).to.equal(width);
      } finally {
        if (before !== null) await page.setViewportSize(before);
      }
    });
  }

  it('writes a screenshot of the chat page to spec/artifacts/chat.png', async function () {
    const startedAt = Date.now();
    const shot = await screenshot(ann.page, 'chat.png');
    expect(shot.path.endsWith('spec/artifacts/chat.png')).to.equal(true);
    expect(shot.bytes.subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
    expect(shot.bytes.length).to.be.greaterThan(5000);
    expect(shot.mtimeMs).to.be.at.least(startedAt - 1000);
  });

  it('does the same over long-polling only: two pages in a room, messages and ticks', async function () {
    const [dan, eve] = await Promise.all([
      ChatPage.open(browser, chat.origin, 'dan', 'transports=polling'),
      ChatPage.open(browser, chat.origin, 'eve', 'transports=polling'),
    ]);
    try {
      await dan.join('attic');
      await eve.join('attic');

      const danLine = await dan.say('polling hello');
      const atEve = await eve.waitForLine('polling hello');
      expect(await atEve.locator('.nick').textContent()).to.equal('dan');
      await eventually(
        "dan's delivered tick",
        async () => ({
          className: await danLine.getAttribute('class'),
          tick: await danLine.locator('.tick').textContent(),
        }),
        (seen) => seen.className === 'message delivered' && seen.tick === '✓',
      );

      const eveLine = await eve.say('polling reply');
      const atDan = await dan.waitForLine('polling reply');
      expect(await atDan.locator('.nick').textContent()).to.equal('eve');
      await eventually(
        "eve's delivered tick",
        () => eveLine.locator('.tick').textContent(),
        (tick) => tick === '✓',
      );

      // The attic is not the kitchen: ann (in the kitchen, on the default transports) got neither.
      expect(await ann.receivedChatTexts()).to.not.include('polling hello');
      for (const page of [dan, eve]) {
        expect(await page.transport()).to.equal('polling');
        expect(page.websockets).to.deep.equal([]);
        expect(page.pageErrors).to.deep.equal([]);
      }
    } finally {
      await Promise.all([dan.close(), eve.close()]);
    }
  });

  it('shows the connection going down and coming back when the server restarts', async function () {
    for (const page of [ann, bob]) await page.clearRecordedStates();
    await chat.io.stop();
    for (const page of [ann, bob]) {
      await eventually(
        `${page.nick}'s page to show the lost connection`,
        () => page.recordedStates(),
        (states) => states.includes('disconnected') && states.includes('reconnecting'),
        8000,
      );
      expect(await page.state()).to.be.oneOf(['disconnected', 'reconnecting']);
    }
    // The same port again: the pages reconnect by themselves.
    chat = await startChat(chat.port);
    for (const page of [ann, bob]) {
      await page.waitForStatus('connected', `reconnected as ${page.nick}`, 12_000);
      const states = await page.recordedStates();
      expect(states.indexOf('disconnected')).to.be.lessThan(states.lastIndexOf('connected'));
      expect(states.at(-1)).to.equal('connected');
    }
    // The pages rejoined their rooms on the new server: the kitchen works again.
    await eventually(
      'bob to see a message sent after the restart',
      async () => {
        await ann.say('back again');
        return bob.line('back again').count();
      },
      (count) => count > 0,
      8000,
    );
    expect(await bob.line('back again').first().locator('.nick').textContent()).to.equal('ann');
  });

  it('raised no errors in the pages', function () {
    // (Refused connections while the server was down are failed requests, not errors here.)
    expect(ann.pageErrors).to.deep.equal([]);
    expect(bob.pageErrors).to.deep.equal([]);
    expect(cid.pageErrors).to.deep.equal([]);
  });

  it('answered no request with a 404, /favicon.ico included', async function () {
    for (const page of [ann, bob, cid]) {
      expect(page.failedResponses, page.nick).to.deep.equal([]);
      expect(
        page.consoleErrors.filter((text) => /\b404\b/.test(text)),
        page.nick,
      ).to.deep.equal([]);
    }
    // Whether or not headless Chromium asked for them, both icon paths answer.
    for (const path of ['/favicon.ico', '/favicon.svg']) {
      const response = await ann.page.request.get(`${chat.origin}${path}`);
      expect(response.status(), path).to.equal(200);
      expect(response.headers()['content-type'], path).to.equal('image/svg+xml');
    }
    expect(await ann.page.locator('link[rel="icon"]').getAttribute('href')).to.equal(
      '/favicon.svg',
    );
  });
});
