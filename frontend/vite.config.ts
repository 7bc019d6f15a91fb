/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// React's JSX goes through Vite's built-in esbuild (automatic runtime): no plugin needed.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    target: 'es2020',
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    // The CSP allows no inline script: keep the module-preload polyfill out of index.html
    // and never inline assets as data: URLs into scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': { target: process.env.VITE_BACKEND ?? 'http://127.0.0.1:8080', changeOrigin: true },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    reporters: ['default', './scripts/summary-reporter.ts'],
    pool: 'threads',
    poolOptions: { threads: { maxThreads: 2, minThreads: 1 } },
  },
});
