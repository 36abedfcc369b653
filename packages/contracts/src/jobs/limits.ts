/**
 * Maximum width × height of a PNG or JPEG input, in pixels (8192 × 8192). The gateway
 * rejects a larger image before queueing it, and the worker before decoding it, so that one
 * image cannot exhaust a worker's memory: a 16384 × 16384 PNG took the worker's main process
 * to 1.6 GB, over the 1 GiB limit of the nuclei-unet pod in deploy/k8s.
 */
export const MAX_IMAGE_PIXELS = 8_192 * 8_192;
