/**
 * The presenter text size as a factor of the default 15 px root font, observed live: a hidden probe 10rem wide is
 * watched with a ResizeObserver, so switching to large text re-lays the Raft views out. Without ResizeObserver
 * (jsdom) the factor stays 1.
 */
export const ROOT_PX = 15;

export function observeRem(onScale: (scale: number) => void): () => void {
  if (typeof document === 'undefined' || typeof ResizeObserver === 'undefined') return () => {};
  const probe = document.createElement('div');
  probe.setAttribute('aria-hidden', 'true');
  probe.style.cssText = 'position:absolute;visibility:hidden;pointer-events:none;width:10rem;height:0;left:-9999px;top:0';
  document.body.append(probe);
  const read = () => {
    const px = probe.getBoundingClientRect().width / 10;
    if (px > 0) onScale(Math.round((px / ROOT_PX) * 1000) / 1000);
  };
  const ro = new ResizeObserver(read);
  ro.observe(probe);
  read();
  return () => {
    ro.disconnect();
    probe.remove();
  };
}

/**
 * A Svelte action reporting an element's content width, like `bind:clientWidth` but without requiring
 * ResizeObserver (jsdom has none; there the views keep their fallback width).
 */
export function width(el: HTMLElement, onWidth: (px: number) => void): { destroy(): void } {
  if (typeof ResizeObserver === 'undefined') return { destroy() {} };
  const ro = new ResizeObserver(() => onWidth(el.clientWidth));
  ro.observe(el);
  onWidth(el.clientWidth);
  return { destroy: () => ro.disconnect() };
}

/** Like `width`, for an element's rendered height (offsetHeight). */
export function height(el: HTMLElement, onHeight: (px: number) => void): { destroy(): void } {
  if (typeof ResizeObserver === 'undefined') return { destroy() {} };
  const ro = new ResizeObserver(() => onHeight(el.offsetHeight));
  ro.observe(el);
  onHeight(el.offsetHeight);
  return { destroy: () => ro.disconnect() };
}
