import type { PerfOptions } from './perf-options.js';

/**
 * Checks option combinations before anything is sent, with perf_analyzer's messages
 * (`CLParser::VerifyOptions`) where it has one.
 * @throws Error with the message for the first violated rule
 */
export function verifyPerfOptions(o: PerfOptions): void {
  if (o.modelName === '') throw new Error('Failed to parse -m (model name). The value must be specified.');
  if (o.streaming && o.protocol !== 'grpc') throw new Error('Streaming is only allowed with gRPC protocol and Triton C API.');
  if (o.percentile !== undefined && !(o.percentile >= 1 && o.percentile <= 99)) {
    throw new Error('Failed to parse --percentile. The value must be -1 for not reporting or in range (0, 100).');
  }
  if (o.sequenceLengthVariation < 0) throw new Error('Failed to parse --sequence-length-variation. The value must be >= 0.0.');
  const openEnded = o.concurrencyRange?.end === 0 || o.requestRateRange?.end === 0;
  if (openEnded && o.latencyThresholdMs === 0) {
    throw new Error('The end of the search range and the latency limit can not be both 0 (or 0.0) simultaneously');
  }
  if (o.concurrencyRange !== undefined && o.requestRateRange !== undefined) {
    throw new Error('Cannot specify --concurrency-range and --request-rate-range together.');
  }
  if (o.protocol === 'grpc' && (o.inputTensorFormat !== 'binary' || o.outputTensorFormat !== 'binary')) {
    throw new Error('--input-tensor-format and --output-tensor-format are only valid with the HTTP protocol.');
  }
  if (o.sharedMemory !== 'none' && o.inputTensorFormat === 'json') {
    throw new Error('--input-tensor-format json cannot be used with --shared-memory (the data is in the shared memory region).');
  }
  for (const [flag, v] of [
    ['--measurement-interval', o.measurementIntervalMs],
    ['--max-trials', o.maxTrials],
    ['-b', o.batchSize],
  ] as const) {
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`${flag} must be a whole number greater than 0, got ${v}`);
  }
  if (!(o.stabilityPercentage > 0)) throw new Error(`--stability-percentage must be greater than 0, got ${o.stabilityPercentage}`);
  if (o.maxThreads !== undefined && !(Number.isInteger(o.maxThreads) && o.maxThreads > 0)) {
    throw new Error(`--max-threads must be a whole number greater than 0, got ${o.maxThreads}`);
  }
}
