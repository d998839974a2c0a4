import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

/** @datadog/sketches-js requires protobufjs lazily for a serialisation we never use: see src/shims/protobufjs-minimal.ts. */
const alias = { 'protobufjs/minimal': fileURLToPath(new URL('./src/shims/protobufjs-minimal.ts', import.meta.url)) };

/**
 * One config for the app, its worker, and the three test projects:
 * - unit: Node, the simulator, CLI and schemas (tests/unit, tests/property, tests/scenario);
 * - component: jsdom + Svelte in browser mode, stories rendered with composeStories (tests/component);
 * - e2e: Node driving Debian's Chromium through playwright-core against the built app (tests/e2e).
 */
export default defineConfig({
  plugins: [svelte()],
  base: './',
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 800 },
  resolve: process.env.VITEST ? { conditions: ['browser'], alias } : { alias },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          environment: 'node',
          include: ['tests/unit/**/*.test.ts', 'tests/property/**/*.test.ts', 'tests/scenario/**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'component',
          environment: 'jsdom',
          include: ['tests/component/**/*.test.ts'],
          setupFiles: ['tests/component/setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
