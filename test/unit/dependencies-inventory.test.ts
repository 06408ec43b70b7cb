/**
 * CON-DEV-002 asks for an inventory of third-party dependencies. doc/dependencies.md is that inventory;
 * these checks keep it from falling behind package.json, which it once did by ten packages.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths';

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Package name → the version its row states, from every `| `name` | version |` table row. */
function inventoryRows(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of markdown.matchAll(/^\| `((?:@[a-z0-9._-]+\/)?[a-z0-9._-]+)` \| ([^|]+?) \|/gm)) rows.set(m[1]!, m[2]!);
  return rows;
}

/** What is wrong with the inventory for this manifest: one line per missing or mismatched package. */
function inventoryProblems(manifest: Manifest, markdown: string): string[] {
  const rows = inventoryRows(markdown);
  const problems: string[] = [];
  for (const [name, version] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
    const stated = rows.get(name);
    if (stated === undefined) problems.push(`${name}: no row in doc/dependencies.md`);
    else if (stated !== version) problems.push(`${name}: package.json pins ${version}, doc/dependencies.md says ${stated}`);
  }
  return problems;
}

describe('Dependency inventory (CON-DEV-002)', () => {
  it('CON-DEV-002: every package in package.json has a row in doc/dependencies.md with its exact pinned version', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
    expect(inventoryProblems(manifest, readFileSync(join(ROOT, 'doc/dependencies.md'), 'utf8'))).toEqual([]);
  });

  it('CON-DEV-002: the check reports a package without a row and a row with another version', () => {
    const doc = '| Package | Version |\n| --- | --- |\n| `@scope/kept` | 1.2.3 | why |\n| `left` | 2.0.0 | why |\n';
    expect(inventoryProblems({ dependencies: { '@scope/kept': '1.2.3', left: '2.0.1' }, devDependencies: { added: '0.1.0' } }, doc)).toEqual([
      'left: package.json pins 2.0.1, doc/dependencies.md says 2.0.0',
      'added: no row in doc/dependencies.md',
    ]);
  });
});
