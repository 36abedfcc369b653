/** One named step of an ordered shutdown. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
}

/** A step that failed, with its error. */
export interface ShutdownFailure {
  step: string;
  error: unknown;
}

/**
 * Runs cleanup steps in order, each one even when an earlier one failed, and reports the
 * failures. `run` returns the same promise on every call.
 */
export class Shutdown {
  private running: Promise<ShutdownFailure[]> | undefined;

  constructor(private readonly steps: readonly ShutdownStep[]) {}

  run(): Promise<ShutdownFailure[]> {
    this.running ??= (async () => {
      const failures: ShutdownFailure[] = [];
      for (const step of this.steps) {
        try {
          await step.run();
        } catch (error) {
          failures.push({ step: step.name, error });
        }
      }
      return failures;
    })();
    return this.running;
  }
}
