import { GatewayError } from '../errors/gateway-error.js';

/** Deepest nesting of arrays and objects accepted in a JSON body. A v2 request with nested 4D tensor data is 7 levels deep. */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Rejects a JSON body nested deeper than `maxDepth` with 400, in one linear pass over its bytes
 * before `JSON.parse` runs. Both `JSON.parse` and every recursive walk of the result (zod,
 * `JSON.stringify`) take time and stack in proportion to the depth, so ten million nested
 * arrays blocked the event loop for seconds. Brackets inside strings are skipped; anything else
 * malformed is left to `JSON.parse`.
 */
export function assertJsonDepth(body: Uint8Array, maxDepth = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < body.length; index++) {
    const byte = body[index];
    if (inString) {
      if (byte === BACKSLASH) index++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      depth++;
      if (depth > maxDepth) {
        throw new GatewayError('invalid_json', `the JSON body is nested deeper than ${maxDepth} levels`, {
          extensions: { limit: maxDepth },
        });
      }
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
}
