import { type Logger, throttledErrorLog } from '@medai-flow/common';
import { describe, expect, it } from 'vitest';

describe('throttledErrorLog', () => {
  it('logs once per interval with the count left out', () => {
    const lines: { fields: Record<string, unknown>; message: string }[] = [];
    const logger = {
      error: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }),
    } as unknown as Logger;
    let time = 0;
    const log = throttledErrorLog(
      logger,
      'queue error',
      { model: 'm' },
      { intervalMs: 1_000, now: () => time },
    );

    log(new Error('a'));
    time = 500;
    log(new Error('b'));
    log(new Error('c'));
    time = 1_600;
    log(new Error('d'));

    expect(lines.map((line) => line.fields.suppressed)).toEqual([0, 2]);
    expect(lines.map((line) => (line.fields.err as Error).message)).toEqual(['a', 'd']);
    expect(lines.every((line) => line.message === 'queue error' && line.fields.model === 'm')).toBe(true);
  });
});
