import { mount } from 'svelte';
import './app.css';
import App from './views/App.svelte';
import { createWorkerPort } from './views/worker-port.ts';

/** Entry point: start the simulation worker and mount the lab on it. */
const { port } = createWorkerPort();
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target, props: { port } });
