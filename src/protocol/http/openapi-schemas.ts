/**
 * The schemas of the OpenAPI document (openapi-document.ts): the KServe v2 REST bodies
 * (kserve `docs/predict-api/v2/required_api.md`) and those of Triton's extensions as infera
 * serves them (server `docs/protocol/extension_*.md`). JSON Schema 2020-12, as OpenAPI 3.1 uses.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string): Schema => (description === undefined ? { type: 'string' } : { type: 'string', description });
const int = (description?: string): Schema => (description === undefined ? { type: 'integer' } : { type: 'integer', description });
const bool = (description?: string): Schema => (description === undefined ? { type: 'boolean' } : { type: 'boolean', description });
const array = (items: Schema, description?: string): Schema => ({ type: 'array', items, ...(description === undefined ? {} : { description }) });
const object = (properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  ...extra,
});

const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES', 'BF16'];

export const SCHEMAS: Record<string, Schema> = {
  Error: object({ error: str('What went wrong; names the model, tensor and what was expected where one is at fault.') }, ['error']),
  Parameters: {
    type: 'object',
    description: 'Request, response or tensor parameters.',
    additionalProperties: { type: ['string', 'number', 'boolean'] },
  },
  Datatype: { type: 'string', enum: DATATYPES },
  Shape: array({ type: 'integer', minimum: -1 }, 'Dimensions; -1 is a variable dimension (metadata only).'),
  TensorMetadata: object({ name: str(), datatype: ref('Datatype'), shape: ref('Shape') }, ['name', 'datatype', 'shape']),
  ServerMetadata: object(
    { name: str(), version: str(), extensions: array(str(), 'The extensions the server implements.') },
    ['name', 'version', 'extensions'],
  ),
  ModelMetadata: object(
    {
      name: str(),
      versions: array(str()),
      platform: str(),
      inputs: array(ref('TensorMetadata')),
      outputs: array(ref('TensorMetadata')),
      parameters: ref('Parameters'),
    },
    ['name', 'platform', 'inputs', 'outputs'],
  ),
  TensorData: {
    description:
      'Row-major tensor data: a flat or nested array of numbers, booleans or (BYTES) strings. Absent when the binary_data_size parameter puts the data after the JSON (binary tensor data extension).',
    type: 'array',
    items: { type: ['number', 'boolean', 'string', 'array'] },
  },
  RequestInput: object(
    { name: str(), shape: array(int()), datatype: ref('Datatype'), parameters: ref('Parameters'), data: ref('TensorData') },
    ['name', 'shape', 'datatype'],
  ),
  RequestOutput: object(
    {
      name: str(),
      parameters: {
        ...ref('Parameters'),
        description: 'binary_data (bool), classification (int: top-k labels instead of values), shared_memory_region, shared_memory_byte_size, shared_memory_offset.',
      },
    },
    ['name'],
  ),
  InferenceRequest: object(
    {
      id: str(),
      parameters: { ...ref('Parameters'), description: 'binary_data_output, priority, timeout (µs), sequence_id, sequence_start, sequence_end, ...' },
      inputs: array(ref('RequestInput')),
      outputs: array(ref('RequestOutput')),
    },
    ['inputs'],
  ),
  ResponseOutput: object(
    { name: str(), shape: array(int()), datatype: ref('Datatype'), parameters: ref('Parameters'), data: ref('TensorData') },
    ['name', 'shape', 'datatype'],
  ),
  InferenceResponse: object(
    { model_name: str(), model_version: str(), id: str(), parameters: ref('Parameters'), outputs: array(ref('ResponseOutput')) },
    ['model_name', 'outputs'],
  ),
  GenerateRequest: {
    type: 'object',
    description: 'Generate extension: top-level fields name the model inputs (scalars or arrays); "parameters" holds request parameters.',
    properties: { id: str(), parameters: ref('Parameters') },
    additionalProperties: true,
  },
  GenerateResponse: {
    type: 'object',
    description: 'model_name, model_version, id, then each output by name (a scalar for one element).',
    properties: { model_name: str(), model_version: str(), id: str() },
    additionalProperties: true,
  },
  ModelConfig: { type: 'object', description: 'The model configuration as Triton prints it in JSON (snake_case, defaults filled in).', additionalProperties: true },
  ModelStatistics: object({ model_stats: array({ type: 'object', additionalProperties: true }) }, ['model_stats']),
  RepositoryIndexRequest: object({ ready: bool('List only models that are ready.') }),
  RepositoryIndex: array(
    object(
      {
        name: str(),
        version: str(),
        state: str('UNAVAILABLE, LOADING, READY, UNLOADING'),
        reason: str(),
        paging: object(
          {
            memory_bytes: int('Memory the budget counts for the model, in bytes'),
            rss_delta_bytes: int(),
            external_delta_bytes: int(),
            file_bytes: int(),
            instances: int(),
            per_instance_bytes: int(),
            load_ms: int(),
            loads: int(),
            evictions: int(),
            pinned: bool(),
          },
          [],
          { description: "infera's model paging (--model-memory-budget): what its last load measured; READY rows only" },
        ),
      },
      ['name'],
    ),
  ),
  LoadRequest: object({
    parameters: {
      type: 'object',
      description: 'config: a model config in JSON to use instead of the repository\'s; "file:<path>": base64 file contents (with config).',
      properties: { config: str() },
      additionalProperties: { type: ['string', 'boolean', 'number'] },
    },
  }),
  UnloadRequest: object({ parameters: object({ unload_dependents: bool() }, [], { additionalProperties: true }) }),
  LogSettings: object(
    {
      log_file: str(),
      log_info: bool(),
      log_warning: bool(),
      log_error: bool(),
      log_verbose_level: int(),
      log_format: str('default or ISO8601'),
    },
    [],
    { additionalProperties: false },
  ),
  TraceSettings: {
    type: 'object',
    description: 'trace_file, trace_level, trace_rate, trace_count, log_frequency, trace_mode, trace_config: values are strings (trace_level a list); null reverts a model setting to the global one.',
    additionalProperties: { type: ['string', 'array', 'null'], items: str() },
  },
  SystemSharedMemoryRegister: object({ key: str(), offset: int(), byte_size: int() }, ['key', 'byte_size']),
  CudaSharedMemoryRegister: object(
    { raw_handle: object({ b64: str('cudaIpcMemHandle_t, base64') }, ['b64']), device_id: int(), byte_size: int() },
    ['raw_handle', 'device_id', 'byte_size'],
  ),
  SystemSharedMemoryStatus: array(object({ name: str(), key: str(), offset: int(), byte_size: int() })),
  CudaSharedMemoryStatus: array(object({ name: str(), device_id: int(), byte_size: int() })),
  ConsoleServer: object({ model_control_mode: { type: 'string', enum: ['none', 'poll', 'explicit'] } }, ['model_control_mode']),
};
