// Bundles the client's declarations into one file that inlines every type it
// takes from @keel/api (AppRouter with every procedure's input and output, the
// error details), so the published types import nothing but tRPC's own.
//
// It reads what TypeScript's own `tsc --declaration` writes (one top-level
// statement per line at column 0, nested lines indented), which is why no
// declaration bundler built on the old JavaScript compiler API is needed.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Packages the bundled declarations may import. */
export const allowedImports = ['@trpc/client', '@trpc/server'];

/**
 * Server types a client has no use for, replaced by a stand-in. `ctx` is what
 * procedures receive on the server (the database, the session); inferring
 * inputs and outputs never reads it.
 */
const opaque = { Context: 'object' };

const declarationPattern =
  /^(?:export\s+)?(?:declare\s+)?(?:interface|type|const|function|class|enum)\s+([A-Za-z_$][\w$]*)/;

/** Splits a .d.ts text into its top-level statements, each with its leading JSDoc. */
export function topLevelStatements(text) {
  const statements = [];
  let pendingComment = [];
  let current;
  let inComment = false;
  for (const line of text.split('\n')) {
    if (inComment || line.startsWith('/**') || line.startsWith('/*')) {
      pendingComment.push(line);
      inComment = !line.includes('*/');
      continue;
    }
    const startsStatement = line.length > 0 && !/^[\s})\]|&>,]/.test(line);
    if (startsStatement) {
      current = { lines: [...pendingComment, line], name: declarationPattern.exec(line)?.[1] };
      pendingComment = [];
      statements.push(current);
    } else if (current) {
      current.lines.push(line);
    }
  }
  return statements.map((s) => ({ name: s.name, text: s.lines.join('\n').trimEnd() }));
}

function dtsFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.d.ts'))
    .map((file) => join(dir, file));
}

/**
 * One declaration file for the client.
 *
 * @param {{ clientDts: string, apiDir: string }} input the client's emitted
 *   `index.d.ts` text, and the folder of @keel/api's emitted declarations
 * @returns {string}
 */
export function bundleDeclarations({ clientDts, apiDir }) {
  /** name → [{ file, text }] over every api declaration file */
  const declarations = new Map();
  /** file → names declared in it */
  const namesByFile = new Map();
  /** file → names it imports at the top (`import { A, type B as C } from '…'`) */
  const importsByFile = new Map();
  for (const file of dtsFiles(apiDir)) {
    const imported = new Set();
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'[^']+';/gm)) {
      for (const part of (m[1] ?? '').split(',')) {
        const local = part
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)
          .pop()
          ?.trim();
        if (local) imported.add(local);
      }
    }
    for (const m of text.matchAll(
      /^import\s+(?:type\s+)?(?:\*\s+as\s+)?([A-Za-z_$][\w$]*)\s+from\s+'[^']+';/gm,
    )) {
      if (m[1]) imported.add(m[1]);
    }
    importsByFile.set(relative(apiDir, file), imported);
    const names = new Set();
    for (const statement of topLevelStatements(text)) {
      if (!statement.name) continue;
      names.add(statement.name);
      const found = declarations.get(statement.name) ?? [];
      found.push({ file: relative(apiDir, file), text: statement.text });
      declarations.set(statement.name, found);
    }
    namesByFile.set(relative(apiDir, file), names);
  }

  // What the client takes from @keel/api.
  const wanted = [];
  const reexported = [];
  const kept = [];
  for (const line of clientDts.split('\n')) {
    const imported = /^import type \{([^}]+)\} from '@keel\/api';$/.exec(line);
    const exported = /^export type \{([^}]+)\} from '@keel\/api';$/.exec(line);
    const names = (imported ?? exported)?.[1]?.split(',').map((n) => n.trim());
    if (names) {
      wanted.push(...names);
      if (exported) reexported.push(...names);
    } else {
      if (/^(import|export)\b.*from '@keel\//.test(line))
        throw new Error(`unexpected import of a Keel package: ${line}`);
      kept.push(line);
    }
  }

  const emitted = new Map();
  const queue = [...wanted];
  const problems = [];
  while (queue.length > 0) {
    const name = queue.shift();
    if (emitted.has(name) || name in opaque) continue;
    const found = declarations.get(name) ?? [];
    const distinct = [...new Set(found.map((f) => f.text))];
    if (distinct.length !== 1) {
      problems.push(
        `${name}: ${found.length === 0 ? 'no declaration found' : `declared differently in ${found.map((f) => f.file).join(', ')}`}`,
      );
      continue;
    }
    const { file } = found[0];
    let text = distinct[0];
    text = text.replace(/import\("([^"]+)"\)\.([A-Za-z_$][\w$]*)/g, (whole, from, ref) => {
      if (allowedImports.some((pkg) => from === pkg || from.startsWith(`${pkg}/`))) return whole;
      if (ref in opaque) return opaque[ref];
      if (from.startsWith('.')) {
        queue.push(ref);
        return ref;
      }
      problems.push(`${name} refers to ${ref} from "${from}"`);
      return whole;
    });
    // Bare references to names declared beside it (Order → OrderItem); a name
    // the file imports (Selectable from kysely, Users from @keel/db) cannot be
    // inlined, and leaving it would publish a type that names nothing.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '');
    const body = code.slice(code.indexOf(name) + name.length);
    for (const word of new Set(body.match(/\b[A-Za-z_$][\w$]*\b/g) ?? [])) {
      if (word === name) continue;
      if (namesByFile.get(file)?.has(word)) queue.push(word);
      else if (importsByFile.get(file)?.has(word)) {
        problems.push(`${name} refers to ${word}, which ${file} imports`);
      }
    }
    if (/^import |\bfrom '/m.test(text)) problems.push(`${name} contains an import`);
    emitted.set(name, text.replace(/^export (declare )?/m, 'declare '));
  }
  if (problems.length > 0) {
    throw new Error(`cannot inline the client's types:\n  ${problems.join('\n  ')}`);
  }

  const out = [
    '// Generated by @keel/client build.mjs: the types of Keel’s API, inlined.',
    ...kept,
    '',
    '// ---- Keel’s API, inlined from @keel/api (server code is not needed to use it) ----',
    ...[...emitted.values()],
    ...(reexported.length > 0 ? [`export type { ${reexported.join(', ')} };`] : []),
    '',
  ].join('\n');
  const code = out.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const imports = [...code.matchAll(/(?:from\s+'|import\(")([^'"]+)['"]/g)].map((m) => m[1]);
  const foreign = imports.filter(
    (from) => !allowedImports.some((pkg) => from === pkg || from.startsWith(`${pkg}/`)),
  );
  if (foreign.length > 0) {
    throw new Error(`the bundled declarations import ${[...new Set(foreign)].join(', ')}`);
  }
  return out;
}
