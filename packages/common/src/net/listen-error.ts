/** Reasons a server cannot bind its address that the operator fixes in the configuration. */
const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use',
  EACCES: 'binding the port is not permitted',
  EADDRNOTAVAIL: 'the host address is not available on this machine',
};

/**
 * A server could not bind the host and port of its configuration. The service logs it as one
 * line naming `variable`, instead of a stack trace.
 */
export class ListenError extends Error {
  override readonly name = 'ListenError';

  /** Cause of the failed bind in words, for the log line. */
  readonly reason: string;

  constructor(
    readonly variable: string,
    readonly host: string,
    readonly port: number,
    readonly code: string,
    options: { cause: unknown },
  ) {
    const reason = LISTEN_REASONS[code] ?? code;
    super(`${variable}: cannot listen on ${host}:${port} because ${reason}`, options);
    this.reason = reason;
  }
}

/**
 * Converts a `listen` failure caused by the configuration (EADDRINUSE, EACCES, EADDRNOTAVAIL)
 * into a `ListenError` naming `variable`, and returns any other error unchanged.
 */
export function toListenError(error: unknown, variable: string, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || !(code in LISTEN_REASONS)) return error;
  return new ListenError(variable, host, port, code, { cause: error });
}
