/**
 * The simulation's Web Worker: one `Lab` behind comlink. The main thread awaits each call before it makes the next
 * one that depends on it, and the worker handles messages one at a time, so calls apply in the order they were made.
 * This is the only file under src/sim that may import comlink (DESIGN.md, Layout).
 */
import * as Comlink from 'comlink';
import { Lab } from './lab.ts';

Comlink.expose(new Lab());
