/**
 * Layout checks of a page of cards holding plots (the report, the dashboard), measured in the browser:
 * every plot's bounding box inside its card, no two cards overlapping, plots as wide as their card (they
 * follow the card, not a width guessed from the window), and no horizontal scrolling of the page.
 */
import type { Page } from 'playwright-core';

export interface Layout {
  cards: number;
  plots: number;
  /** `card id: plot box (x..right) outside the card (x..right)` */
  outside: string[];
  /** `card a ∩ card b` */
  overlapping: string[];
  /** plots narrower than FILL of their card's content box */
  narrow: string[];
  /** the page scrolls sideways (document wider than the viewport) */
  scrollsX: boolean;
}

/** A plot narrower than this share of its card's content width does not follow the card. */
const FILL = 0.85;

export async function layoutOf(page: Page, cardSelector: string, plotSelector: string): Promise<Layout> {
  return page.evaluate(
    ([cardSel, plotSel, fill]) => {
      const EPS = 0.5;
      const r = (e: Element) => e.getBoundingClientRect();
      const box = (b: DOMRect) => `${b.left.toFixed(1)}..${b.right.toFixed(1)} × ${b.top.toFixed(1)}..${b.bottom.toFixed(1)}`;
      const cards = Array.from(document.querySelectorAll(cardSel));
      const name = (c: Element, i: number) => c.getAttribute('data-chart') ?? c.id ?? String(i);
      const out: Layout = { cards: cards.length, plots: 0, outside: [], overlapping: [], narrow: [], scrollsX: false };
      cards.forEach((c, i) => {
        const cb = r(c);
        const style = getComputedStyle(c);
        const inner = cb.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - parseFloat(style.borderLeftWidth) - parseFloat(style.borderRightWidth);
        for (const p of Array.from(c.querySelectorAll(plotSel))) {
          out.plots++;
          const pb = r(p);
          if (pb.left < cb.left - EPS || pb.right > cb.right + EPS || pb.top < cb.top - EPS || pb.bottom > cb.bottom + EPS) {
            out.outside.push(`${name(c, i)}: plot ${box(pb)} outside the card ${box(cb)}`);
          }
          if (pb.width < fill * inner) out.narrow.push(`${name(c, i)}: plot ${pb.width.toFixed(1)} px wide in a card ${inner.toFixed(1)} px wide`);
        }
        cards.slice(i + 1).forEach((d, k) => {
          const db = r(d);
          const w = Math.min(cb.right, db.right) - Math.max(cb.left, db.left);
          const h = Math.min(cb.bottom, db.bottom) - Math.max(cb.top, db.top);
          if (w > EPS && h > EPS) out.overlapping.push(`${name(c, i)} ∩ ${name(d, i + 1 + k)}`);
        });
      });
      out.scrollsX = document.documentElement.scrollWidth > document.documentElement.clientWidth + 1;
      return out;
    },
    [cardSelector, plotSelector, FILL] as const,
  );
}

/** Let ResizeObserver callbacks and the redraws they cause run (two animation frames). */
export async function settled(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))));
}
