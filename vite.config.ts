import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/** @datadog/sketches-js requires protobufjs lazily for a serialisation we never use: see src/shims/protobufjs-minimal.ts. */
const alias = { 'protobufjs/minimal': fileURLToPath(new URL('./src/shims/protobufjs-minimal.ts', import.meta.url)) };

/**
 * The app's service worker (src/sw.ts), emitted as `sw.js` beside index.html by the app's build only (the e2e tests'
 * build included): the dev server, the unit and component tests and Storybook (whose build has its own entry instead
 * of index.html) never get one. The list of files to precache is only known once the bundle is complete — index.html,
 * every script (the simulation worker and the lazily loaded chunks included) and the styles; not source maps — so it
 * is prepended to the worker's code in `generateBundle`, on its first line (the source map's lines stay right), with a
 * version hashed from every file's name and bytes and the worker's own code: a changed build means a changed `sw.js`,
 * which the browser installs, and a new cache.
 */
function serviceWorker(): Plugin {
  const entry = fileURLToPath(new URL('./src/sw.ts', import.meta.url));
  const fileName = 'sw.js';
  let enabled = false;
  return {
    name: 'streamlab:service-worker',
    apply: 'build',
    // After Vite's own plugins, so index.html and the worker's bundle are in the bundle when the list is made.
    enforce: 'post',
    configResolved(config) {
      // Storybook's build sets its own input (iframe.html); the app's build has none and takes index.html.
      enabled = config.build.rolldownOptions.input === undefined && !config.build.lib && !config.build.ssr;
    },
    buildStart() {
      if (enabled) this.emitFile({ type: 'chunk', id: entry, fileName });
    },
    generateBundle(_options, bundle) {
      if (!enabled) return;
      const sw = bundle[fileName];
      if (sw?.type !== 'chunk') this.error(`the service worker chunk ${fileName} is missing from the bundle`);
      if (sw.imports.length > 0) this.error(`${fileName} must be one classic script; it imports ${sw.imports.join(', ')}`);
      const files = Object.keys(bundle)
        .filter((f) => f !== fileName && !f.endsWith('.map'))
        .sort();
      if (!files.includes('index.html')) this.error(`no index.html in the bundle to precache (files: ${files.join(', ')})`);
      const hash = createHash('sha256').update(sw.code);
      for (const f of files) {
        const item = bundle[f];
        hash.update(`\n${f}\n`).update(item.type === 'chunk' ? item.code : item.source);
      }
      const version = hash.digest('hex').slice(0, 16);
      sw.code = `var STREAMLAB_PRECACHE = ${JSON.stringify({ version, files })};${sw.code}`;
    },
  };
}

/**
 * One config for the app, its worker, and the three test projects:
 * - unit: Node, the simulator, CLI and schemas (tests/unit, tests/property, tests/scenario);
 * - component: jsdom + Svelte in browser mode, stories rendered with composeStories (tests/component);
 * - e2e: Node driving Debian's Chromium through playwright-core against the built app (tests/e2e).
 */
export default defineConfig({
  plugins: [svelte(), serviceWorker()],
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
