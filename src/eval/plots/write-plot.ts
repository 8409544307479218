// Writes a plot as SVG (for papers and the web) and PNG (for previews and slides), both atomically.
import sharp from 'sharp';
import { writeFileAtomic } from '../../util/atomic-write';

export interface WritePlotOptions {
  /** PNG pixels per SVG unit; 2 by default for sharp text on high-density screens and slides. */
  scale?: number;
}

/** Renders `svg` to PNG with sharp (librsvg); the PNG is `scale` times the SVG's size. */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  if (!(scale > 0 && Number.isFinite(scale))) {
    throw new RangeError(`Expected positive number for scale but received ${String(scale)} of type ${typeof scale}`);
  }
  // librsvg renders 1 SVG unit as 1 px at 72 dpi, so density scales the raster.
  return sharp(Buffer.from(svg), { density: 72 * scale }).png().toBuffer();
}

/** Writes `<base>.svg` and `<base>.png`; returns both paths. */
export async function writePlot(
  svg: string,
  basePathWithoutExt: string,
  options: WritePlotOptions = {},
): Promise<{ svg: string; png: string }> {
  const paths = { svg: `${basePathWithoutExt}.svg`, png: `${basePathWithoutExt}.png` };
  const png = await svgToPng(svg, options.scale ?? 2);
  await writeFileAtomic(paths.svg, svg);
  await writeFileAtomic(paths.png, png);
  return paths;
}
