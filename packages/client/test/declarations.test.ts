import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
// @ts-expect-error: a plain JavaScript build script without declarations
import { bundleDeclarations, topLevelStatements } from '../scripts/declarations.mjs';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function apiDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-dts-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const client = `import type { AppRouter } from '@keel/api';
import { createTRPCClient } from '@trpc/client';
export type { AppRouter } from '@keel/api';
export type KeelClient = ReturnType<typeof createTRPCClient<AppRouter>>;
`;

describe('bundleDeclarations', () => {
  test('splits top-level statements with their comments', () => {
    const statements = topLevelStatements(
      '/** A. */\nexport interface A {\n    b: B;\n}\ntype B = {\n    c: 1;\n};\n',
    );
    expect(statements.map((s: { name: string }) => s.name)).toEqual(['A', 'B']);
    expect(statements[0].text).toBe('/** A. */\nexport interface A {\n    b: B;\n}');
  });

  test('inlines what the client takes from @keel/api, following relative and same-file references', () => {
    const dir = apiDir({
      'root.d.ts':
        'export declare const appRouter: import("@trpc/server").X<{\n    ctx: import("./context").Context;\n    out: import("./orders").Order;\n}>;\nexport type AppRouter = typeof appRouter;\n',
      'orders.d.ts':
        "import type { DB } from '@keel/db';\nexport interface Order {\n    items: OrderItem[];\n}\nexport interface OrderItem {\n    id: string;\n}\nexport declare function listOrders(db: DB): void;\n",
    });
    const out: string = bundleDeclarations({ clientDts: client, apiDir: dir });
    expect(out).toContain('declare const appRouter');
    expect(out).toContain('ctx: object;');
    expect(out).toContain('out: Order;');
    expect(out).toContain('declare interface OrderItem');
    expect(out).toContain('export type { AppRouter };');
    expect(out).not.toContain('listOrders');
    expect(out).not.toMatch(/from '@keel\/|import\("@keel\//);
  });

  test('refuses a type that reaches a package other than tRPC', () => {
    const dir = apiDir({
      'root.d.ts':
        'export declare const appRouter: import("@trpc/server").X<{\n    out: import("kysely").Selectable<unknown>;\n}>;\nexport type AppRouter = typeof appRouter;\n',
    });
    expect(() => bundleDeclarations({ clientDts: client, apiDir: dir })).toThrow(
      /appRouter refers to Selectable from "kysely"/,
    );
  });

  test('refuses a type that names something its file imports', () => {
    const dir = apiDir({
      'root.d.ts':
        'export declare const appRouter: import("@trpc/server").X<{\n    out: import("./users").PublicUser;\n}>;\nexport type AppRouter = typeof appRouter;\n',
      'users.d.ts':
        "import type { Users } from '@keel/db';\nimport { type Selectable } from 'kysely';\nexport interface PublicUser {\n    role: Selectable<Users>['role'];\n}\n",
    });
    expect(() => bundleDeclarations({ clientDts: client, apiDir: dir })).toThrow(
      /PublicUser refers to (Selectable|Users), which users\.d\.ts imports/,
    );
  });

  test('refuses a name it cannot find', () => {
    const dir = apiDir({ 'root.d.ts': 'export declare const other: 1;\n' });
    expect(() => bundleDeclarations({ clientDts: client, apiDir: dir })).toThrow(
      /AppRouter: no declaration found/,
    );
  });
});
