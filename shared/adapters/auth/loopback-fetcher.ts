import type { Fetcher } from 'aws-jwt-verify/https';
import { NonRetryableFetchError } from 'aws-jwt-verify/error';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** http:// is acceptable only for an IdP on this machine (local mode); anything else must be https. */
export function assertSafeIdpUrl(url: string): URL {
  const u = new URL(url);
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname)) return u;
  throw new Error(`refusing non-https identity provider URL ${u.origin}`);
}

/**
 * aws-jwt-verify's default fetcher uses node's `https` module, which cannot reach the local dev IdP on
 * http://localhost. This fetcher uses the platform fetch for both, with a timeout, and keeps the https
 * requirement for every non-loopback host, so production behaviour is unchanged.
 */
export class LoopbackAwareFetcher implements Fetcher {
  constructor(private readonly timeoutMs = 3_000) {}

  async fetch(uri: string): Promise<ArrayBuffer> {
    assertSafeIdpUrl(uri);
    const res = await fetch(uri, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json' } });
    if (res.status !== 200) throw new NonRetryableFetchError(uri, `Status code is ${res.status}, expected 200`);
    return res.arrayBuffer();
  }
}
