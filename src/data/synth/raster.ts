// Rasterises soft-edged, optionally irregular ellipses into density maps (one float per pixel).

export interface DensityMap {
  w: number;
  h: number;
  v: Float32Array;
}

export function densityMap(w: number, h: number, fill = 0): DensityMap {
  return { w, h, v: new Float32Array(w * h).fill(fill) };
}

export interface Blob {
  x: number;
  y: number;
  rx: number;
  ry: number;
  angle: number;
  /** Density inside the blob. */
  value: number;
  /** Edge wobble: amplitude of the 2nd/3rd/5th harmonics of the radius (0 = ellipse) and phases. */
  wobble?: { a2: number; a3: number; a5: number; p2: number; p3: number; p5: number };
}

/** How a blob combines with what is already there. */
export type BlendMode = 'max' | 'add' | 'clear';

export function drawBlob(map: DensityMap, b: Blob, mode: BlendMode): void {
  const wob = b.wobble;
  const reach = Math.max(b.rx, b.ry) * (1 + (wob ? wob.a2 + wob.a3 + wob.a5 : 0)) + 1.5;
  const x0 = Math.max(0, Math.floor(b.x - reach));
  const x1 = Math.min(map.w - 1, Math.ceil(b.x + reach));
  const y0 = Math.max(0, Math.floor(b.y - reach));
  const y1 = Math.min(map.h - 1, Math.ceil(b.y + reach));
  if (x0 > x1 || y0 > y1) return;
  const c = Math.cos(b.angle);
  const s = Math.sin(b.angle);
  const edgePx = Math.max(0.5, Math.min(b.rx, b.ry));
  const v = map.v;
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - b.y;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - b.x;
      const u = (dx * c + dy * s) / b.rx;
      const w = (-dx * s + dy * c) / b.ry;
      let d = Math.sqrt(u * u + w * w);
      if (wob) {
        const t = Math.atan2(w, u);
        d /= 1 + wob.a2 * Math.cos(2 * t + wob.p2) + wob.a3 * Math.cos(3 * t + wob.p3) + wob.a5 * Math.cos(5 * t + wob.p5);
      }
      // Anti-aliased edge about one pixel wide.
      const alpha = Math.min(1, Math.max(0, 0.5 + (1 - d) * edgePx));
      if (alpha <= 0) continue;
      const i = y * map.w + x;
      if (mode === 'max') v[i] = Math.max(v[i], b.value * alpha);
      else if (mode === 'add') v[i] += b.value * alpha;
      else v[i] = Math.min(v[i], 1 - alpha * b.value);
    }
  }
}
