import { MAX_PREFER_WAIT_SECONDS } from '../config.js';

/**
 * The preferences of an RFC 7240 `Prefer` header that the gateway honours. Preferences it
 * does not know, and a `wait` whose value is not delta-seconds, are ignored, as RFC 7240
 * section 2 requires of a server.
 */
export interface Preferences {
  /** Seconds the client is willing to wait, before capping. */
  waitSeconds: number | undefined;
  respondAsync: boolean;
}

/** Caps the `wait` preference at `MAX_PREFER_WAIT_SECONDS`. Returns undefined when it is absent or 0. */
export function cappedWait(preferences: Preferences): number | undefined {
  const { waitSeconds } = preferences;
  if (waitSeconds === undefined || waitSeconds === 0) return undefined;
  return Math.min(waitSeconds, MAX_PREFER_WAIT_SECONDS);
}

/** One preference: a token, optionally `=value` (a token or a quoted string), then `;` parameters. */
const PREFERENCE = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?/;

/**
 * Parses `Prefer`. Several headers reach Hono joined by ", ", which is also how one header
 * lists several preferences, so both forms parse alike. The first `wait` counts.
 */
export function parsePrefer(header: string | undefined): Preferences {
  const preferences: Preferences = { waitSeconds: undefined, respondAsync: false };
  if (header === undefined) return preferences;
  for (const part of splitOutsideQuotes(header)) {
    const match = PREFERENCE.exec(part);
    if (!match?.[1]) continue;
    const name = match[1].toLowerCase();
    const value = unquote(match[2] ?? '');
    if (name === 'respond-async') preferences.respondAsync = true;
    if (name === 'wait' && preferences.waitSeconds === undefined && /^[0-9]{1,9}$/.test(value)) {
      preferences.waitSeconds = Number(value);
    }
  }
  return preferences;
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  return value.slice(1, -1).replace(/\\(.)/g, '$1');
}

function splitOutsideQuotes(header: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < header.length; i += 1) {
    const char = header[i] ?? '';
    if (char === '\\' && quoted) {
      current += char + (header[i + 1] ?? '');
      i += 1;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === ',' && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  parts.push(current);
  return parts;
}
