import type { ClientCredentials } from '../domain/identity/token-service';
import { OAuthError } from '../domain/identity/oauth';

/** RFC 6749 §2.3.1: HTTP Basic with form-urlencoded id and secret, or the same in the body. */
export function clientCredentials(authorization: string | undefined, form: Readonly<Record<string, string>>): ClientCredentials {
  const methods: ClientCredentials['methods'][number][] = [];
  let clientId = form['client_id'];
  let clientSecret = form['client_secret'];
  if (clientSecret !== undefined) methods.push('client_secret_post');
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) throw new OAuthError('invalid_client', 'Malformed client authentication.', 401, 'basic without colon');
    let id: string;
    let secret: string;
    try {
      id = decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' '));
      secret = decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' '));
    } catch {
      throw new OAuthError('invalid_client', 'Malformed client authentication.', 401, 'basic not url-encoded');
    }
    if (clientId !== undefined && clientId !== id) throw new OAuthError('invalid_request', 'client_id in the body and in the Authorization header differ.');
    clientId = id;
    clientSecret = secret;
    methods.push('client_secret_basic');
  }
  return { clientId, clientSecret, methods };
}
