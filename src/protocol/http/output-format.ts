/**
 * Which outputs of an infer response go out as binary (reference §1.3, §1.4). Triton's rules
 * (`ParseJsonTritonParams`, `ParseJsonTritonIO`, `EVBufferToRawInput`): an output the request
 * names is binary exactly when its `binary_data` parameter is true (a named output without it
 * is JSON even under `binary_data_output`); an output the request does not name follows
 * `binary_data_output`, and every output of a raw binary request is binary.
 */
export class OutputFormat {
  // Created on the first `set`: most requests name no output.
  private names: string[] | undefined;
  private binary: boolean[] | undefined;

  /** @param defaultBinary the kind for outputs the request does not name */
  constructor(readonly defaultBinary: boolean) {}

  /** Records the kind of an output the request names. */
  set(name: string, binary: boolean): void {
    (this.names ??= []).push(name);
    (this.binary ??= []).push(binary);
  }

  /** Whether output `name` is returned as binary. Linear scan: requests name few outputs. */
  isBinary(name: string): boolean {
    const i = this.names === undefined ? -1 : this.names.indexOf(name);
    return i < 0 ? this.defaultBinary : this.binary![i]!;
  }
}
