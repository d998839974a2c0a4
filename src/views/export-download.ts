/**
 * Browser side of the export menu: saving text as a download, and turning a live SVG view into a standalone SVG file
 * or a PNG image. The views style their SVG with scoped CSS and theme variables, which a file opened elsewhere does
 * not have, so the serializer copies each element's computed presentation properties onto the copy.
 */

/** Presentation properties worth carrying over; the rest (layout, cursor, transitions) mean nothing in a file. */
const SVG_STYLE_PROPS = [
  'fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-opacity', 'stroke-dasharray', 'stroke-linecap', 'stroke-linejoin',
  'opacity', 'font-family', 'font-size', 'font-weight', 'font-style', 'text-anchor', 'dominant-baseline', 'visibility', 'display',
  'paint-order', 'letter-spacing',
] as const;

/** The size of the exported picture, from the element's box (falling back to its viewBox, then a default). */
export function svgSize(svg: SVGSVGElement): { width: number; height: number } {
  const box = svg.getBoundingClientRect();
  if (box.width > 0 && box.height > 0) return { width: Math.round(box.width), height: Math.round(box.height) };
  const vb = svg.viewBox?.baseVal;
  if (vb && vb.width > 0 && vb.height > 0) return { width: Math.round(vb.width), height: Math.round(vb.height) };
  return { width: 800, height: 600 };
}

/** The first non-transparent background colour at or above `el`, so the picture keeps the page's backdrop. */
function backgroundOf(el: Element): string | null {
  for (let e: Element | null = el; e; e = e.parentElement) {
    const bg = getComputedStyle(e).backgroundColor;
    if (bg && bg !== 'transparent' && !/^rgba\(.*,\s*0\)$/.test(bg)) return bg;
  }
  return null;
}

/**
 * A standalone SVG document of `svg` as it looks now: computed styles inlined, explicit size, its namespace, and the
 * page's background as a first rectangle.
 */
export function serializeSvg(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const originals = [svg, ...svg.querySelectorAll('*')];
  const copies = [copy, ...copy.querySelectorAll('*')];
  for (let i = 0; i < originals.length && i < copies.length; i++) {
    const cs = getComputedStyle(originals[i]);
    const style: string[] = [];
    for (const p of SVG_STYLE_PROPS) {
      const v = cs.getPropertyValue(p);
      if (v) style.push(`${p}:${v}`);
    }
    if (style.length) copies[i].setAttribute('style', style.join(';'));
    copies[i].removeAttribute('class');
  }
  const { width, height } = svgSize(svg);
  // XMLSerializer writes the SVG namespace declaration itself (the element is in that namespace); setting an
  // `xmlns` attribute as well would write it twice, which XML parsers reject.
  copy.setAttribute('width', String(width));
  copy.setAttribute('height', String(height));
  if (!copy.getAttribute('viewBox')) copy.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const bg = backgroundOf(svg);
  if (bg) {
    const vb = copy.getAttribute('viewBox')!.split(/[\s,]+/).map(Number);
    const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
    rect.setAttribute('x', String(vb[0]));
    rect.setAttribute('y', String(vb[1]));
    rect.setAttribute('width', String(vb[2]));
    rect.setAttribute('height', String(vb[3]));
    rect.setAttribute('fill', bg);
    copy.insertBefore(rect, copy.firstChild);
  }
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
}

/** Rasterises an SVG document at `scale` × its size (2 for crisp slides) into a PNG blob. */
export async function svgToPng(svgText: string, width: number, height: number, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.decoding = 'async';
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('the browser could not draw the SVG'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas in this browser');
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Saves a blob under `filename` through a temporary link (the way every browser accepts). */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A file name for this run: scenario, seed (made safe) and virtual time. */
export function exportBaseName(scenario: string, seed: string, tUs: number): string {
  return `streamlab-${scenario}-${seed.replace(/[^\w.-]+/g, '_')}-${tUs}us`;
}
