import { defineConfig } from 'vite';

// Preact through the automatic JSX runtime (tsconfig's jsxImportSource);
// no framework plugin needed. Everything is bundled into hashed files under
// dist/assets, which todo-api embeds and serves as immutable.
export default defineConfig({
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    // Small enough to be one request; no inline data: assets (the CSP allows only 'self').
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    // `npm run dev` proxies the API to a todo-api on :8000.
    proxy: { '/api': 'http://127.0.0.1:8000', '/health': 'http://127.0.0.1:8000' },
  },
});
