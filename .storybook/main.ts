import type { StorybookConfig } from '@storybook/svelte-vite';

/** Stories live beside their components (src/views/*.stories.ts) and are built from fixed, seeded snapshots. */
const config: StorybookConfig = {
  stories: ['../src/**/*.stories.ts'],
  framework: { name: '@storybook/svelte-vite', options: {} },
  core: { disableTelemetry: true },
  // Stories bundle the whole simulator (they run it on the page), so the preview chunk is larger than the app's.
  viteFinal: (config) => ({ ...config, build: { ...config.build, chunkSizeWarningLimit: 2000 } }),
};

export default config;
