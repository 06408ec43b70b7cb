import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Absolute path of the project root (the directory holding package.json), independent of the cwd. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Lock file used by NodejsFunction to find the project root and compute the asset hash. */
export const LOCK_FILE = path.join(PROJECT_ROOT, 'package-lock.json');

/** Resolve a path given relative to the project root (e.g. a route's `entry`). */
export function fromProjectRoot(relativePath: string): string {
  return path.join(PROJECT_ROOT, relativePath);
}
