// What a team calling Keel from outside TypeScript's monorepo would do:
// generate types from /openapi.json with openapi-typescript and compile calls
// made with openapi-fetch. openapi-typescript builds its output with
// TypeScript 5's compiler API, which TypeScript 7 (the workspace's compiler)
// no longer has, so this package depends on TypeScript 5.9 and pnpm links
// openapi-typescript's `typescript` peer to it; the checks compile with it too.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import ts from 'typescript';

/** The TypeScript version the types are generated and compiled with. */
export const typescriptVersion: string = ts.version;

/**
 * The `paths` and `components` types openapi-typescript writes for a document.
 *
 * @example
 * ```ts
 * const source = await generateTypes(await (await fetch(`${url}/openapi.json`)).json());
 * ```
 */
export async function generateTypes(document: unknown): Promise<string> {
  return astToString(await openapiTS(document as OpenAPI3));
}

/** One compiler complaint: the file, the 1-based line and the message. */
export interface TypeError {
  file: string;
  line: number;
  message: string;
}

/**
 * Compiles the given files (name → source) strictly, beside an installed
 * openapi-fetch, and returns every error; none means they type-check.
 *
 * @example
 * ```ts
 * const errors = typeErrors({ 'keel.ts': source, 'call.ts': "import type { paths } from './keel';" });
 * ```
 */
export function typeErrors(files: Record<string, string>): TypeError[] {
  const dir = mkdtempSync(join(tmpdir(), 'keel-openapi-'));
  try {
    for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
    // openapi-fetch sits in node_modules, as it would in an app that installed it.
    mkdirSync(join(dir, 'node_modules'));
    const openapiFetch = dirname(
      createRequire(import.meta.url).resolve('openapi-fetch/package.json'),
    );
    symlinkSync(openapiFetch, join(dir, 'node_modules', 'openapi-fetch'), 'dir');
    const program = ts.createProgram(
      Object.keys(files).map((name) => join(dir, name)),
      {
        strict: true,
        noUncheckedIndexedAccess: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
        types: [],
      },
    );
    return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const file = diagnostic.file;
      const at =
        file && diagnostic.start !== undefined
          ? file.getLineAndCharacterOfPosition(diagnostic.start)
          : null;
      return {
        file: file ? file.fileName.slice(dir.length + 1) : '',
        line: at ? at.line + 1 : 0,
        message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
