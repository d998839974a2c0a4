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

/**
 * Pushes `item`, numbering it with the next sequence number (its `seq` is overwritten: makers write 0, so the item is
 * built with every field and numbering it changes no object's shape), and returns that number.
 */
export function heapPush<T extends HeapItem>(heap: HeapState<T>, item: T, sizeMax: number): number {
  if (!(Number.isInteger(item.t) && item.t >= 0)) fail(`heap time must be a non-negative integer, got ${item.t}`);
  if (!(heap.items.length < sizeMax)) fail(`event heap is full (${sizeMax} items): a node is scheduling without bound`);
  item.seq = heap.nextSeq++;
  const a = heap.items;
  a.push(item);
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
  return item.seq;
}

export function heapPeek<T extends HeapItem>(heap: HeapState<T>): T | undefined {
  return heap.items[0];
}

export function heapPop<T extends HeapItem>(heap: HeapState<T>): T | undefined {
  const a = heap.items;
  if (a.length === 0) return undefined;
  const top = a[0];
  const last = a.pop()!;
  const n = a.length;
  if (n > 0) {
    // Sift the last item down from the root through a hole: each level moves one child up, and the item is written
    // once, where it stops.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && before(a[r], a[l]) ? r : l;
      if (!before(a[m], last)) break;
      a[i] = a[m];
      i = m;
    }
    a[i] = last;
  }
  return top;
}
