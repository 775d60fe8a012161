/** Parameters of a repository load request (reference §1.5, §8 "Explicit load"). */
export interface LoadModelParameters {
  /** A ModelConfig as JSON text, used instead of config.pbtxt. */
  config?: string;
  /**
   * `file:<version>/<path>` overrides: parameter name as sent (`file:1/model.onnx`; a key
   * without the prefix is taken as the path) → content. Requires `config` and the server flag
   * `--model-load-allow-file-override`.
   */
  files?: Map<string, Uint8Array>;
}
