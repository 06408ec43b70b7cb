/**
 * The Universal Login Page (IF-LOGIN-UI) and its sibling pages: plain server-rendered HTML, no scripts at
 * all, one inline stylesheet allowed by its hash in a strict CSP. Every interpolated value is escaped.
 */
import { createHash } from 'node:crypto';

const CSS = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
main{max-width:26rem;margin:8vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 .25rem}p.sub{margin:0 0 1.5rem;color:#5b6475}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{width:100%;padding:.65rem .75rem;font:inherit;border:1px solid #b9c0cc;border-radius:8px}
input:focus{border-color:#2f6fde}
button{width:100%;margin-top:1.5rem;padding:.7rem;font:inherit;font-weight:600;color:#fff;background:#2f5fd0;border:0;border-radius:8px;cursor:pointer}
input:focus,button:focus,a:focus{outline:3px solid #1d4ed8;outline-offset:2px}
.error{margin:1rem 0 0;padding:.75rem;border-radius:8px;background:#fdecec;color:#8a1c1c}
.note{margin:1rem 0 0;padding:.75rem;border-radius:8px;background:#eef4ff;color:#1d3f8a}
.links{margin-top:1.25rem;font-size:.95rem}a{color:#2f5fd0}ul.hints{margin:.5rem 0 0;padding-left:1.2rem;color:#5b6475;font-size:.9rem}
.fine{margin-top:1.5rem;color:#5b6475;font-size:.8rem}
`;
const CSS_HASH = createHash('sha256').update(CSS, 'utf8').digest('base64');

/** No script-src at all: the pages work without JavaScript, and injected markup cannot run any. */
export const PAGE_CSP = `default-src 'none'; style-src 'sha256-${CSS_HASH}'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'`;

export function esc(value: string | null | undefined): string {
  return (value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export interface Page {
  readonly headers: Record<string, string>;
  readonly body: string;
}

function layout(title: string, content: string): Page {
  return {
    // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on form posts, and the
    // login form's CSRF defence checks Origin. Cross-origin requests still get no Referer at all.
    headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, 'x-frame-options': 'DENY', 'referrer-policy': 'same-origin' },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${esc(title)}</title><style>${CSS}</style></head><body><main>${content}</main></body></html>`,
  };
}

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`;
}

export interface LoginPageInput {
  readonly requestId: string;
  readonly csrf: string;
  readonly appName: string;
  /** Known tenant: the form asks for email and password only. Unknown: it asks for the organization too. */
  readonly tenantDomain: string | null;
  readonly email: string | null;
  readonly error: string | null;
  readonly action: string;
  readonly forgotUrl: string;
}

/** Step "identify + password" of the login sequence; later steps (MFA, SSO) render their own pages. */
export function loginPage(i: LoginPageInput): Page {
  const org = i.tenantDomain
    ? `${hidden('tenant', i.tenantDomain)}<p class="sub">Organization: <strong>${esc(i.tenantDomain)}</strong></p>`
    : `<label for="tenant">Organization</label><input id="tenant" name="tenant" autocomplete="organization" required pattern="[a-z0-9-]{3,63}" aria-describedby="tenant-hint"><p id="tenant-hint" class="sub">Your organization's sign-in name, e.g. <em>acme</em>.</p>`;
  return layout(
    `Sign in to ${i.appName}`,
    `<h1>Sign in</h1><p class="sub">to continue to ${esc(i.appName)}</p>
${i.error ? `<p class="error" role="alert">${esc(i.error)}</p>` : ''}
<form method="post" action="${esc(i.action)}" novalidate>
${hidden('req', i.requestId)}${hidden('csrf', i.csrf)}
${org}
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${esc(i.email)}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Continue</button>
</form>
<p class="links"><a href="${esc(i.forgotUrl)}">Forgot your password?</a></p>`,
  );
}

export function errorPage(i: { title: string; message: string; requestId?: string }): Page {
  return layout(i.title, `<h1>${esc(i.title)}</h1><p class="error" role="alert">${esc(i.message)}</p>${i.requestId ? `<p class="fine">Reference: ${esc(i.requestId)}</p>` : ''}`);
}

export function messagePage(i: { title: string; message: string; link?: { href: string; text: string } }): Page {
  return layout(i.title, `<h1>${esc(i.title)}</h1><p class="note" role="status">${esc(i.message)}</p>${i.link ? `<p class="links"><a href="${esc(i.link.href)}">${esc(i.link.text)}</a></p>` : ''}`);
}

/**
 * RP-Initiated Logout §6: a sign-out request without a valid `id_token_hint` for this browser's session
 * could come from any site, so the person confirms it. The form carries the request on, with a CSRF token.
 */
export function logoutConfirmPage(i: { action: string; csrf: string; who: string; organization: string; appName: string | null; carry: Readonly<Record<string, string>> }): Page {
  return layout(
    'Sign out?',
    `<h1>Sign out?</h1><p class="sub">${i.appName ? `${esc(i.appName)} asks to sign you out. ` : ''}You are signed in as <strong>${esc(i.who)}</strong> (${esc(i.organization)}).</p>
<form method="post" action="${esc(i.action)}">
${Object.entries(i.carry).map(([k, v]) => hidden(k, v)).join('')}${hidden('csrf', i.csrf)}${hidden('confirm', 'yes')}
<button type="submit">Sign out</button>
</form>`,
  );
}

export interface SetPasswordPageInput {
  readonly title: string;
  readonly intro: string;
  readonly action: string;
  readonly token: string;
  readonly csrf: string;
  readonly email: string | null;
  readonly hints: readonly string[];
  readonly errors: readonly string[];
  readonly submitLabel: string;
}

/** Accepting an invitation and resetting a password both end in "choose a password". */
export function setPasswordPage(i: SetPasswordPageInput): Page {
  return layout(
    i.title,
    `<h1>${esc(i.title)}</h1><p class="sub">${esc(i.intro)}</p>
${i.errors.length > 0 ? `<div class="error" role="alert"><ul>${i.errors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul></div>` : ''}
<form method="post" action="${esc(i.action)}" novalidate>
${hidden('token', i.token)}${hidden('csrf', i.csrf)}
${i.email ? `<input type="email" name="username" autocomplete="username" value="${esc(i.email)}" hidden>` : ''}
<label for="password">New password</label><input id="password" name="password" type="password" autocomplete="new-password" required aria-describedby="hints">
<ul id="hints" class="hints">${i.hints.map((h) => `<li>${esc(h)}</li>`).join('')}</ul>
<button type="submit">${esc(i.submitLabel)}</button>
</form>`,
  );
}

export function forgotPasswordPage(i: { action: string; csrf: string; tenantDomain: string | null; error: string | null; sent: boolean }): Page {
  if (i.sent) {
    return messagePage({ title: 'Check your email', message: 'If an account exists for that address, we have sent a link to reset the password. The link expires in 30 minutes.' });
  }
  return layout(
    'Reset your password',
    `<h1>Reset your password</h1><p class="sub">We will email you a link to choose a new password.</p>
${i.error ? `<p class="error" role="alert">${esc(i.error)}</p>` : ''}
<form method="post" action="${esc(i.action)}" novalidate>
${hidden('csrf', i.csrf)}
<label for="tenant">Organization</label><input id="tenant" name="tenant" required pattern="[a-z0-9-]{3,63}" value="${esc(i.tenantDomain)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
<button type="submit">Send reset link</button>
</form>`,
  );
}
