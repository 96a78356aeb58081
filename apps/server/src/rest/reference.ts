// /openapi.json and the human-readable reference at /docs: Redoc's standalone
// bundle, served by this server (no CDN), reading the local document. The
// production build copies the bundle beside dist/main.mjs; from source it
// comes from node_modules (redoc is a build-time dependency). It
// works under the server's Content-Security-Policy as it is: search is off
// (it would start a worker from a blob: URL, which script-src 'self'
// forbids), and the logo Redoc's sidebar asks its CDN for is refused by
// img-src 'self', so the page loads nothing from elsewhere.
// Not named createRequire: build.mjs's banner declares that name at the top of the bundle.
import { existsSync } from 'node:fs';
import { createRequire as requireFrom } from 'node:module';
import { join } from 'node:path';
import type { AppRouter } from '@keel/api';
import express, { type Router } from 'express';
import { createOpenApiDocument } from './document';

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Keel API reference</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <noscript>This page needs JavaScript; the document itself is <a href="/openapi.json">/openapi.json</a>.</noscript>
    <redoc spec-url="/openapi.json" disable-search></redoc>
    <script src="/docs/redoc.standalone.js"></script>
  </body>
</html>
`;

export function referenceRoutes(router: AppRouter): Router {
  const routes = express.Router();
  // Generated on first request, then kept: the routes and schemas never change while running.
  let document: string | undefined;
  routes.get('/openapi.json', (_req, res) => {
    document ??= JSON.stringify(createOpenApiDocument(router));
    res.setHeader('cache-control', 'no-cache');
    res.type('json').send(document);
  });

  // Found on first use: the API does not depend on the docs page being there.
  let bundle: string | null | undefined;
  const findBundle = (): string | null => {
    const beside = join(import.meta.dirname, 'redoc.standalone.js');
    if (existsSync(beside)) return beside;
    try {
      return requireFrom(import.meta.url).resolve('redoc/bundles/redoc.standalone.js');
    } catch {
      return null;
    }
  };
  routes.get('/docs', (_req, res) => {
    res.setHeader('cache-control', 'no-cache');
    res.type('html').send(page);
  });
  routes.get('/docs/redoc.standalone.js', (_req, res) => {
    bundle ??= findBundle();
    if (!bundle) {
      res.status(404).json({ error: 'the reference page is not part of this build' });
      return;
    }
    // pnpm keeps packages under node_modules/.pnpm, a dot directory.
    res.sendFile(bundle, { maxAge: '1h', dotfiles: 'allow' });
  });
  return routes;
}
