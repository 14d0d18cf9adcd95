/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core for
 * the browser specs, a polling `eventually` for values that settle over time,
 * and screenshots under spec/artifacts/ (git-ignored).
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { delay } from './raw-engine.js';

/** The repository root (this file runs from dist/spec/helpers/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Where screenshots go. */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'spec', 'artifacts');

/** Debian's Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet headless Chromium in a container. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** A page in a fresh browser context (its own cookies and storage). */
export interface IsolatedPage {
  readonly context: BrowserContext;
  readonly page: Page;
}

/** Opens a page in a context of its own. */
export async function isolatedPage(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<IsolatedPage> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 }, ...options });
  const page = await context.newPage();
  return { context, page };
}

/**
 * Reads `read()` until `accept` holds, every 50 ms, for up to `ms` milliseconds;
 * resolves with the accepted value, else rejects naming `label` and the last value read.
 */
export async function eventually<T>(
  label: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await read();
      lastError = undefined;
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen =
        lastError !== undefined
          ? `the last read failed: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`
          : `the last value was ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${ms} ms waiting for ${label}; ${seen}`);
    }
    await delay(50);
  }
}

/** Writes a PNG screenshot of `page` to spec/artifacts/<name>; resolves with its path and size. */
export async function screenshot(
  page: Page,
  name: string,
): Promise<{ path: string; bytes: Buffer; mtimeMs: number }> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, name);
  const bytes = await page.screenshot({ path, fullPage: true });
  const { mtimeMs } = await stat(path);
  return { path, bytes, mtimeMs };
}

/** The PNG file signature. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A table's cells as [first cell, second cell] rows. */
export async function tableRows(page: Page, selector: string): Promise<[string, string][]> {
  const cells = await page.locator(`${selector} td`).allTextContents();
  const rows: [string, string][] = [];
  for (let i = 0; i + 1 < cells.length; i += 2) rows.push([cells[i] ?? '', cells[i + 1] ?? '']);
  return rows;
}
