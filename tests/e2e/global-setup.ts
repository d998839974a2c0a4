/**
 * Builds the production app once (vite's `build()`), serves `dist/` from a tiny static server on 127.0.0.1 with a free
 * port, and hands the URL to the e2e tests through vitest's provide/inject. The tests then drive Debian's Chromium
 * with playwright-core against exactly what users would get.
 */
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { buildApp, DIST, serve } from '../../bench/dist-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildApp();
  const server = await serve(DIST);
  const { port } = server.address() as AddressInfo;
  project.provide('baseUrl', `http://127.0.0.1:${port}/`);
  return () => new Promise<void>((ok) => server.close(() => ok()));
}
