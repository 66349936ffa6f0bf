/**
 * Runs `fn` while a claim (a Redis key with an expiry) is renewed every third of `ttlMs`: the claim stays
 * short, so one that a coordinator killed mid-way (SIGKILL, out of memory) leaves behind expires within
 * `ttlMs` instead of blocking its work for as long as the longest upload or archive may take.
 */
export async function whileRenewing<T>(ttlMs: number, renew: () => Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  // A failed renewal is the claim lost to its expiry: the work goes on, as it did with one long expiry.
  const timer = setInterval(() => void renew().catch(() => undefined), ttlMs / 3);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
