import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (scripts/install-deps.sh installs it); playwright-core never downloads a browser. */
export const chromiumPath = '/usr/bin/chromium';

export function haveChromium(): boolean {
  return existsSync(chromiumPath);
}

/**
 * Headless Chromium as this machine allows it: root needs --no-sandbox, and the
 * closed network refuses Chromium's own background connections, so they are off.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
