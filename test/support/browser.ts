/**
 * A real browser for the report and dashboard tests: Debian's chromium (installed by `make setup`), driven
 * headless by playwright-core — no browser download. DARE_CHROMIUM overrides the executable.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.DARE_CHROMIUM ?? '/usr/bin/chromium';

/** Is the chromium executable there (tests skip with this reason otherwise)? */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM);
}

export interface BrowserSession {
  browser: Browser;
  /** a new page (1280×900 unless given) whose console errors and uncaught exceptions are collected */
  page(viewport?: { width: number; height: number }): Promise<Page>;
  /** console 'error' messages and uncaught exceptions of `page` so far */
  errors(page: Page): string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<BrowserSession> {
  // chromium refuses to run as root with its sandbox on
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: root ? ['--no-sandbox'] : [] });
  const errs = new Map<Page, string[]>();
  return {
    browser,
    async page(viewport = { width: 1280, height: 900 }) {
      const p = await browser.newPage({ viewport });
      const list: string[] = [];
      errs.set(p, list);
      p.on('console', (m) => {
        if (m.type() === 'error') list.push(`console: ${m.text()}`);
      });
      p.on('pageerror', (e) => list.push(`pageerror: ${e.message}`));
      return p;
    },
    errors: (p) => [...(errs.get(p) ?? [])],
    close: () => browser.close(),
  };
}
