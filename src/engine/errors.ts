/**
 * Engine error types. `SdmeError` is an expected, user-facing failure whose
 * message is fit to print as one line ("Error: <message>"). Anything else that
 * escapes the engine is a bug and keeps its stack trace.
 */
export class SdmeError extends Error {
  readonly exitCode: number;
  constructor(message: string, opts: { exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SdmeError';
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** Raised when the user interrupts (SIGINT/SIGTERM); exit code 128+signal. */
export class InterruptedError extends SdmeError {
  constructor(signal: 'SIGINT' | 'SIGTERM' = 'SIGINT') {
    super('interrupted, exiting', { exitCode: signal === 'SIGINT' ? 130 : 143 });
    this.name = 'InterruptedError';
  }
}

export function isSdmeError(e: unknown): e is SdmeError {
  return e instanceof SdmeError;
}

/** Throws InterruptedError if the signal has been aborted. */
export function checkInterrupt(signal?: AbortSignal): void {
  if (signal?.aborted) throw new InterruptedError();
}
