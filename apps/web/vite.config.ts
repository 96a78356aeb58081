import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { readWebEnvironment } from './env';

// `pnpm dev` serves the storefront on WEB_PORT and proxies /trpc to the API
// (same origin for the browser, so no CORS setting is needed in development).
const env = readWebEnvironment();

export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    port: env.WEB_PORT,
    strictPort: true,
    proxy: { '/trpc': `http://${env.HOST}:${env.PORT}` },
  },
  preview: { host: '127.0.0.1', port: env.WEB_PORT },
  build: { target: 'es2022', sourcemap: true },
});
