import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths';

const eslint = new ESLint({ cwd: ROOT });

async function restrictedImportErrors(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${ROOT}/${filePath}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('Layering rules (architecture.md, enforced by ESLint)', () => {
  it.each([
    ["import { DynamoDBClient } from '@aws-sdk/client-dynamodb';", 'AWS SDK'],
    ["import middy from '@middy/core';", 'middy'],
    ["import type { APIGatewayProxyEvent } from 'aws-lambda';", 'Lambda event types'],
    ["import { keys } from '../adapters/dynamo/keys';", 'outer layers'],
    ["import { handler } from '../../functions/tenants/create';", 'outer layers'],
  ])('CON-DEV-001: shared/domain refuses %s', async (source, why) => {
    const errors = await restrictedImportErrors('shared/domain/probe.ts', `${source}\nexport {};\n`);
    expect(errors.join(' ')).toContain(why);
  });

  it('CON-DEV-001: shared/domain may import zod and node built-ins', async () => {
    expect(await restrictedImportErrors('shared/domain/probe.ts', "import { z } from 'zod';\nimport { createHash } from 'node:crypto';\nexport { z, createHash };\n")).toEqual([]);
  });

  it('CON-DEV-001: lib/ may import shared/config but no runtime code', async () => {
    expect(await restrictedImportErrors('lib/probe.ts', "import { ROUTES } from '../shared/config/routes';\nexport { ROUTES };\n")).toEqual([]);
    expect(await restrictedImportErrors('lib/probe.ts', "import { container } from '../shared/composition';\nexport { container };\n")).not.toEqual([]);
  });

  it('CON-DEV-001: nothing imports functions/', async () => {
    expect(await restrictedImportErrors('shared/http/probe.ts', "import { handler } from '../../functions/tenants/get';\nexport { handler };\n")).not.toEqual([]);
  });
});
