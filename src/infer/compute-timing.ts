/**
 * Where the time of one execution went, in nanoseconds (Triton's compute_input,
 * compute_infer and compute_output statistics): preparing inputs for the runtime (including
 * the hand-off to the instance's thread), the runtime's own run, and collecting outputs
 * (including the hand-off back).
 */
export interface ComputeTiming {
  inputNs: number;
  inferNs: number;
  outputNs: number;
  /**
   * ns the execution waited inside a pipelined instance (`ModelInstance.pipelineDepth`)
   * behind executions handed to it earlier; the scheduler counts it as queue time (Triton's
   * queue statistic), not compute. Absent: it did not wait there.
   */
  waitNs?: number;
}
