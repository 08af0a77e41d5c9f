/**
 * The README's screenshots: the editor in real Chromium, through the local bridge, on the real engine with the
 * shipped models and the sample photo. Writes docs/screenshots/{editor,motion,batch,adapt}.png.
 * Run: node --import tsx tools/screenshots.ts
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ensureRendererBuilt, launchBrowser, root, runBridge } from '../tests/e2e/harness.ts';

// These callbacks run in the page (the Node tsconfig has no DOM library).
declare const document: {
  querySelector(s: string): { naturalWidth?: number; value?: string } | null;
  querySelectorAll(s: string): ArrayLike<{ getAttribute(name: string): string | null }>;
};

const out = path.join(root, 'docs', 'screenshots');
const sample = path.join(root, 'resources', 'samples', 'coffee-shake.jpg');

async function pick(page: Page, dir: string, entry?: string): Promise<void> {
  await page.locator('[data-picker]').waitFor();
  await page.fill('[data-picker-location]', dir);
  await page.press('[data-picker-location]', 'Enter');
  await page.waitForFunction((d) => document.querySelector('[data-picker-location]')?.value === d, dir);
  if (entry) await page.click(`[data-entry="${entry}"]`);
  await page.click('[data-picker-confirm]');
}

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-shots-'));
const photos = path.join(tmp, 'photos');
await fs.mkdir(photos, { recursive: true });
for (const n of ['coffee-shake.jpg', 'coffee-sharp.jpg']) await fs.copyFile(path.join(root, 'resources', 'samples', n), path.join(photos, n));
for (const n of await fs.readdir(path.join(root, 'resources', 'sharp-set'))) if (n.endsWith('.jpg')) await fs.copyFile(path.join(root, 'resources', 'sharp-set', n), path.join(photos, n));
await fs.copyFile(sample, path.join(photos, 'coffee-shake-2.jpg'));

await ensureRendererBuilt();
const served = await runBridge('serve.ts', { ...process.env, NEURMAP_USER_DATA: path.join(tmp, 'user'), NEURMAP_NO_ELECTRON: '1' });
const browser = await launchBrowser();
try {
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 860 } })).newPage();
  page.setDefaultTimeout(120_000);
  await page.goto(served.url);
  await fs.mkdir(out, { recursive: true });

  await page.keyboard.press('Control+o');
  await pick(page, photos, 'coffee-shake.jpg');
  await page.waitForFunction(() => (document.querySelector('img[data-layer="before"]')?.naturalWidth ?? 0) > 0);
  await page.click('[data-action="deblur"]');
  await page.waitForSelector('canvas[data-layer="after"][data-strength="1"]');
  await page.screenshot({ path: path.join(out, 'editor.png') });

  await page.click('[data-action="motion"]');
  await page.locator('svg[data-layer="quiver"]').waitFor();
  await page.check('input[name="overlay"][value="both"]');
  await page.locator('img[data-layer="heatmap"]').waitFor();
  await page.screenshot({ path: path.join(out, 'motion.png') });

  await page.click('[data-module="batch"]');
  await page.click('button[aria-label="Choose input folder"]');
  await pick(page, photos);
  await page.click('button[aria-label="Choose output folder"]');
  await pick(page, tmp);
  await page.click('[data-action="batch-start"]');
  await page.waitForSelector('[data-batch-state="done"]', { timeout: 300_000 });
  await page.screenshot({ path: path.join(out, 'batch.png') });

  await page.click('[data-module="adapt"]');
  await page.click('button[aria-label="Choose blurry photos"]');
  await pick(page, photos);
  await page.fill('input[name="model-name"]', 'My phone');
  await page.locator('input[name="minutes"]').fill('5');
  await page.click('[data-action="adapt-start"]');
  // three checks on held-out photos (one per tenth of the run) draw the "how much sharper" curve
  await page.waitForFunction(() => document.querySelectorAll('[data-sharper-chart] polyline')[0]?.getAttribute('points')?.split(' ').length! >= 4, undefined, { timeout: 600_000 });
  await page.screenshot({ path: path.join(out, 'adapt.png') });
  await page.click('[data-action="adapt-cancel"]');
} finally {
  await browser.close();
  await served.stop();
  await fs.rm(tmp, { recursive: true, force: true });
}
process.stdout.write(`wrote ${path.relative(process.cwd(), out)}/{editor,motion,batch,adapt}.png\n`);
