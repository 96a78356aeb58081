import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `pnpm dev` serves the storefront on WEB_PORT and proxies /trpc to the API
// (same origin for the browser, so no CORS setting is needed in development).
const apiPort = process.env.PORT ?? '3000';
const apiHost = process.env.HOST ?? '127.0.0.1';

export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    port: Number(process.env.WEB_PORT ?? 5173),
    strictPort: true,
    proxy: { '/trpc': `http://${apiHost}:${apiPort}` },
  },
  preview: { host: '127.0.0.1', port: Number(process.env.WEB_PORT ?? 5173) },
  build: { target: 'es2022', sourcemap: true },
});
