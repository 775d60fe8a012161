import cliProgress from 'cli-progress';

/**
 * The progress bar `infera perf` draws on stderr while it measures (cli-progress), one per
 * load level, counting windows up to `--max-trials`. Nothing is drawn when stderr is not a
 * terminal, so logs and pipes stay clean.
 */
export interface ProgressDisplay {
  start(label: string, maxTrials: number): void;
  update(trial: number, fraction: number): void;
  stop(): void;
}

/** A progress display on `stream`; a no-op one when it is not a terminal. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  if (!stream.isTTY) return { start() {}, update() {}, stop() {} };
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(label, maxTrials) {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        { stream, format: `${label} [{bar}] window {window}/${maxTrials}`, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(maxTrials, 0, { window: 1 });
    },
    update(trial, fraction) {
      bar?.update(trial - 1 + fraction, { window: trial });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
