/**
 * Maximum width × height of a PNG or JPEG input, in pixels (16384 × 16384). The gateway
 * rejects a larger image before queueing it, and the worker before decoding it, so that one
 * image cannot exhaust a worker's memory.
 */
export const MAX_IMAGE_PIXELS = 16_384 * 16_384;
