/**
 * Setup for component tests (jsdom): apply the Storybook preview to composed stories, unmount what each test
 * rendered, and give jsdom the few browser APIs the views use that it lacks.
 */
import { setProjectAnnotations } from '@storybook/svelte';
import { cleanup } from '@testing-library/svelte';
import { afterEach } from 'vitest';
import preview from '../../.storybook/preview.ts';

setProjectAnnotations(preview);

afterEach(() => {
  cleanup();
  delete document.body.dataset.ready;
});

if (typeof window.requestAnimationFrame !== 'function') {
  window.requestAnimationFrame = (cb) => window.setTimeout(() => cb(performance.now()), 16);
  window.cancelAnimationFrame = (id) => window.clearTimeout(id);
}
