import { fail } from './assert.ts';
import type { Micros } from './time.ts';

/**
 * A binary min-heap of plain objects ordered by `(t, seq)`. `seq` is the insertion counter, so two items scheduled for
 * the same microsecond always pop in the order they were pushed — the only tie-break rule the world needs for
 * byte-identical replays. The heap is an array of plain data, so `structuredClone` checkpoints it.
 */
export interface HeapItem {
  t: Micros;
  seq: number;
}

export interface HeapState<T extends HeapItem> {
  items: T[];
  nextSeq: number;
}

export function heapCreate<T extends HeapItem>(): HeapState<T> {
  return { items: [], nextSeq: 0 };
}

function before(a: HeapItem, b: HeapItem): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

/** Pushes `item` with the next sequence number and returns that number. */
/** `Omit` that distributes over a union, so each variant of a scheduled-item union keeps its own fields. */
export type WithoutSeq<T> = T extends HeapItem ? Omit<T, 'seq'> : never;

export function heapPush<T extends HeapItem>(heap: HeapState<T>, item: WithoutSeq<T>, sizeMax: number): number {
  if (!(Number.isInteger(item.t) && item.t >= 0)) fail(`heap time must be a non-negative integer, got ${item.t}`);
  if (!(heap.items.length < sizeMax)) fail(`event heap is full (${sizeMax} items): a node is scheduling without bound`);
  const full = item as unknown as T;
  full.seq = heap.nextSeq++;
  const a = heap.items;
  a.push(full);
  let i = a.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(a[i], a[p])) break;
    // A swap through a temporary: the destructuring form allocated an array per level (the run's top allocator).
    const x = a[i];
    a[i] = a[p];
    a[p] = x;
    i = p;
  }
  return full.seq;
}

export function heapPeek<T extends HeapItem>(heap: HeapState<T>): T | undefined {
  return heap.items[0];
}

export function heapPop<T extends HeapItem>(heap: HeapState<T>): T | undefined {
  const a = heap.items;
  if (a.length === 0) return undefined;
  const top = a[0];
  const last = a.pop()!;
  if (a.length > 0) {
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l], a[m])) m = l;
      if (r < a.length && before(a[r], a[m])) m = r;
      if (m === i) break;
      const x = a[i];
      a[i] = a[m];
      a[m] = x;
      i = m;
    }
  }
  return top;
}
