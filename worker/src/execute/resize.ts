/**
 * Resizes `channels` row-major planes with bilinear interpolation, sampling at pixel
 * centres (the convention of OpenCV's INTER_LINEAR and PyTorch's align_corners=false).
 */
export function resizeBilinear(
  source: Float32Array,
  width: number,
  height: number,
  targetWidth: number,
  targetHeight: number,
  channels = 1,
): Float32Array {
  const out = new Float32Array(channels * targetWidth * targetHeight);
  const scaleX = width / targetWidth;
  const scaleY = height / targetHeight;
  for (let c = 0; c < channels; c += 1) {
    const src = c * width * height;
    const dst = c * targetWidth * targetHeight;
    for (let ty = 0; ty < targetHeight; ty += 1) {
      const sy = Math.min(Math.max((ty + 0.5) * scaleY - 0.5, 0), height - 1);
      const y0 = Math.floor(sy);
      const y1 = Math.min(y0 + 1, height - 1);
      const fy = sy - y0;
      for (let tx = 0; tx < targetWidth; tx += 1) {
        const sx = Math.min(Math.max((tx + 0.5) * scaleX - 0.5, 0), width - 1);
        const x0 = Math.floor(sx);
        const x1 = Math.min(x0 + 1, width - 1);
        const fx = sx - x0;
        const top =
          (source[src + y0 * width + x0] as number) * (1 - fx) +
          (source[src + y0 * width + x1] as number) * fx;
        const bottom =
          (source[src + y1 * width + x0] as number) * (1 - fx) +
          (source[src + y1 * width + x1] as number) * fx;
        out[dst + ty * targetWidth + tx] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}
