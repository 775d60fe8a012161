/**
 * The model configuration layer: `inference.ModelConfig` (generated from
 * proto/model_config.proto), config.pbtxt and JSON forms, Triton's auto-complete steps and
 * its validation rules (reference §3, §4).
 *
 * Load order, as Triton applies it:
 *   parseModelConfigText → resolveBackendFields (step 1, always) → the backend's
 *   autoCompleteConfig (step 2, unless auto-complete is disabled; backends/backend.ts) →
 *   normalizeModelConfig (step 3, always) → validateModelConfig + validateLabelFiles → the
 *   backend's validateConfig (e.g. backends/onnxruntime/validate-config.ts). Before any of
 *   the version steps, the repository checks the config alone (checkConfigBeforeVersions in
 *   repository/model-source.ts: normalizeModelConfig → validateModelConfigFields, and the
 *   inputs/outputs when auto-complete is off), as Triton's poll does.
 * Each step returns a new config and leaves its argument alone.
 */
export * from '../generated/model_config_pb.js';
export { parseModelConfigText } from './parse-text.js';
export { locateTextError, type TextPosition } from './text-error-location.js';
export { listVersionDirs, resolveBackendFields } from './backend-fields.js';
export { normalizeInstanceGroups, normalizeModelConfig, type NormalizeOptions } from './normalize.js';
export { validateInstanceGroups, validateModelConfig, validateModelConfigFields, type ValidateOptions } from './validate.js';
export { validateModelIO } from './validate-io.js';
export { validateLabelFiles } from './label-files.js';
export { modelConfigFromJson, modelConfigToJson } from './config-json.js';
export {
  sequenceControl,
  sequenceControls,
  SequenceControlKind,
  type SequenceControl,
} from './sequence-controls.js';
export {
  configDataTypeName,
  configDataTypeToWire,
  configInputs,
  configOutputs,
  enumName,
  formatShape,
  tensorApiShape,
  toNumbers,
  wireToConfigDataType,
  type ConfigTensor,
  type ConfigTensorEntry,
} from './tensor-shapes.js';
export * as configConstants from './constants.js';
