import { RateLimitError } from '../domain/errors';
import type { RateLimiter } from '../domain/identity/ports';

/** Applies several limits at once; the longest wait wins. Throws ERR-RATE-429 with Retry-After. */
export async function throttle(limiter: RateLimiter, now: Date, checks: readonly { bucket: string; subject: string; limit: number; windowSeconds: number }[]): Promise<void> {
  const waits = await Promise.all(checks.map((c) => limiter.hit(c.bucket, c.subject, c.limit, c.windowSeconds, now)));
  const wait = Math.max(0, ...waits);
  if (wait > 0) throw new RateLimitError(wait);
}
