// Images that are not BreakHis tissue, made by the test: a UI screenshot (SVG text, buttons and
// flat blocks rendered by sharp), photo-like scenes (sky/grass gradients with sensor noise, a
// skin-toned portrait blur), flat colours (including H&E pink), and degenerate shapes.
import sharp from 'sharp';

import { mulberry32 } from '../../src/util/prng';

export function screenshotSvg(width = 1280, height = 1150): string {
  const rows = Array.from({ length: 14 }, (_, i) =>
    `<text x="60" y="${260 + i * 56}" font-family="sans-serif" font-size="22" fill="#333">Row ${i + 1}: SOB_M_DC-14-2523-100-00${i % 10}.png  malignant  0.${(37 + i * 7) % 100}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="#f6f7f9"/>
    <rect width="100%" height="72" fill="#1f3a5f"/>
    <text x="40" y="48" font-family="sans-serif" font-size="30" fill="#fff">Histoscope — Analyse an image</text>
    <rect x="40" y="110" width="540" height="90" rx="8" fill="#fff" stroke="#c8ccd2"/>
    <rect x="620" y="120" width="180" height="60" rx="6" fill="#2563eb"/>
    <text x="660" y="160" font-family="sans-serif" font-size="24" fill="#fff">Analyse</text>
    <rect x="860" y="110" width="380" height="320" fill="#e8f0fe"/>
    <rect x="900" y="150" width="300" height="40" fill="#b91c1c"/>
    ${rows}
  </svg>`;
}

export function screenshotPng(width?: number, height?: number): Promise<Buffer> {
  return sharp(Buffer.from(screenshotSvg(width, height))).png().toBuffer();
}

/** Raw RGB with per-pixel colour from `f` plus seeded noise (photos have sensor noise). */
async function rasterPng(width: number, height: number, seed: number, noise: number,
  f: (x: number, y: number) => [number, number, number]): Promise<Buffer> {
  const rng = mulberry32(seed);
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const rgb = f(x / width, y / height);
      for (let c = 0; c < 3; c++) data[3 * (y * width + x) + c] = Math.max(0, Math.min(255, Math.round(rgb[c] + noise * (rng() - 0.5))));
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** A landscape: blue sky over green grass, with a sun, 700×460 like BreakHis. */
export function landscapePng(): Promise<Buffer> {
  return rasterPng(700, 460, 3, 18, (x, y) => {
    if (Math.hypot(x - 0.75, y - 0.2) < 0.08) return [255, 236, 150];
    if (y < 0.55) return [90 + 100 * y, 150 + 80 * y, 235];
    return [60 + 40 * x, 140 - 50 * (y - 0.55), 50];
  });
}

/** A blurred portrait: skin tones on a warm background, 700×460. */
export function portraitPng(): Promise<Buffer> {
  return rasterPng(700, 460, 5, 10, (x, y) => {
    const face = Math.hypot((x - 0.5) * 1.5, y - 0.45) < 0.3;
    if (face) return [224 - 40 * y, 172 - 30 * y, 140 - 30 * y];
    return [120 + 60 * x, 90 + 40 * y, 60];
  });
}

export function flatPng(rgb: [number, number, number], width = 700, height = 460): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
}

/** A PNG whose alpha is 0 everywhere (its colour channels hold H&E pink, which nobody sees). */
export function transparentPng(width = 700, height = 460): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 230, g: 120, b: 190, alpha: 0 } } }).png().toBuffer();
}

/** Cuts a width×height piece of an image (for thumbnails and strips made from real tissue). */
export function resizedPng(input: string | Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(input).resize(width, height, { fit: 'fill' }).png().toBuffer();
}
