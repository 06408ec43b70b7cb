/**
 * cpctl's local state: one profile per region (the region decides which deployment, and so which data
 * residency, a command talks to). Tokens are stored with mode 0600, like the AWS CLI's SSO cache.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const profileSchema = z.object({
  api: z.string().url(),
  issuer: z.string().url(),
  audience: z.string(),
  clientId: z.string(),
  tokens: z
    .object({
      accessToken: z.string(),
      refreshToken: z.string().optional(),
      idToken: z.string().optional(),
      expiresAt: z.number(),
      issuer: z.string(),
    })
    .optional(),
});
export type Profile = z.infer<typeof profileSchema>;

const fileSchema = z.object({
  currentRegion: z.string().optional(),
  profiles: z.record(z.string(), profileSchema).default({}),
});
export type CliState = z.infer<typeof fileSchema>;

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['CPCTL_CONFIG_DIR'] ?? join(env['XDG_CONFIG_HOME'] ?? join(homedir(), '.config'), 'cpctl');
}

export function loadState(dir = configDir()): CliState {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) return { profiles: {} };
  const parsed = fileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a valid cpctl config; delete it and log in again`);
  return parsed.data;
}

export function saveState(state: CliState, dir = configDir()): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'config.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  chmodSync(file, 0o600);
}
