import { mount } from 'svelte';
import './app.css';
import App from './views/App.svelte';
import { createWorkerPort } from './views/worker-port.ts';

/** Entry point: start the simulation worker and mount the lab on it. */
const { port } = createWorkerPort();
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target, props: { port } });

/**
 * Offline use (src/sw.ts): only a production build has a `sw.js` (the dev server and Storybook never register one),
 * and only pages served over http(s) can register it. Registration waits for the page's own loading to finish, so
 * precaching never competes with the first run; a failure only costs offline use, so it is a warning.
 * The build's mode, not `PROD`: Vite derives `PROD` from NODE_ENV, which is "test" when the e2e tests build the app.
 */
if (import.meta.env.MODE === 'production' && 'serviceWorker' in navigator && (location.protocol === 'https:' || location.protocol === 'http:')) {
  const register = () => {
    navigator.serviceWorker.register('./sw.js').catch((e: unknown) => console.warn(`streamlab works online only: the service worker did not register (${e instanceof Error ? e.message : String(e)})`));
  };
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}
