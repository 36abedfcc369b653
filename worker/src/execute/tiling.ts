/**
 * Reflects an index into [0, size) as a mirror without repeating the edge pixel
 * (…, 2, 1, 0, 1, 2, …), folding as often as needed for images smaller than the halo.
 */
export function mirrorIndex(index: number, size: number): number {
  if (size === 1) return 0;
  const period = 2 * (size - 1);
  const folded = ((index % period) + period) % period;
  return folded < size ? folded : period - folded;
}

/** A tile of the model's input size whose centre `core` region lands at (`x`, `y`) in the image. */
export interface Tile {
  /** Image coordinates of the tile's top-left pixel, possibly negative (mirrored). */
  x: number;
  y: number;
}

/**
 * Places tiles of `tileWidth` x `tileHeight` so that their centres, each shrunk by `halo`
 * on every side, cover the image without gaps. Each tile's core starts at a multiple of
 * the core size. The last row and column are shifted back so that they end at the image edge
 * where the image is at least one core wide.
 */
export function planTiles(
  width: number,
  height: number,
  tileWidth: number,
  tileHeight: number,
  halo: number,
): Tile[] {
  const xs = coreStarts(width, tileWidth - 2 * halo);
  const ys = coreStarts(height, tileHeight - 2 * halo);
  return ys.flatMap((y) => xs.map((x) => ({ x: x - halo, y: y - halo })));
}

function coreStarts(size: number, core: number): number[] {
  if (core <= 0) throw new RangeError(`the halo leaves no core in a tile (core size ${core})`);
  const starts: number[] = [];
  for (let start = 0; start < size; start += core) starts.push(Math.min(start, Math.max(0, size - core)));
  return [...new Set(starts)];
}

/** Copies a tile out of a row-major image, mirroring pixels outside it. */
export function extractTile(
  image: Float32Array,
  width: number,
  height: number,
  tile: Tile,
  tileWidth: number,
  tileHeight: number,
): Float32Array {
  const out = new Float32Array(tileWidth * tileHeight);
  for (let ty = 0; ty < tileHeight; ty += 1) {
    const row = mirrorIndex(tile.y + ty, height) * width;
    for (let tx = 0; tx < tileWidth; tx += 1) {
      out[ty * tileWidth + tx] = image[row + mirrorIndex(tile.x + tx, width)] as number;
    }
  }
  return out;
}

/**
 * Writes the core of a tile's `channels` output planes (the tile minus `halo` on every side)
 * into the full-size output, clipped to the image.
 */
export function placeTileCore(
  output: Float32Array,
  width: number,
  height: number,
  tileOutput: Float32Array,
  tile: Tile,
  tileWidth: number,
  tileHeight: number,
  halo: number,
  channels: number,
): void {
  for (let c = 0; c < channels; c += 1) {
    const outPlane = c * width * height;
    const tilePlane = c * tileWidth * tileHeight;
    for (let ty = halo; ty < tileHeight - halo; ty += 1) {
      const y = tile.y + ty;
      if (y < 0 || y >= height) continue;
      for (let tx = halo; tx < tileWidth - halo; tx += 1) {
        const x = tile.x + tx;
        if (x < 0 || x >= width) continue;
        output[outPlane + y * width + x] = tileOutput[tilePlane + ty * tileWidth + tx] as number;
      }
    }
  }
}
