/**
 * Node.js flags of the gateway in production: the image's CMD, `pnpm start:gateway` and the
 * benchmark start it with these.
 *
 * `--max-semi-space-size=32` lets each of the young generation's two semi-spaces grow to
 * 32 MiB, where V8 in Node.js 20 stopped at 16 MiB on the benchmark machine. Every request
 * keeps its objects alive while it waits for Redis. With 16 MiB, the scavenger ran every 20 ms
 * under load, copied those objects and promoted many of them to the old generation. In
 * `pnpm bench` with 128 connections, gateway CPU per authenticated request fell from about 50
 * to 35 µs. The cost is up to 32 MiB more heap.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
