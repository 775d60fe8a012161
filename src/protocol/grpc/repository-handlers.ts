import { create } from '@bufbuild/protobuf';
import type { handleUnaryCall } from '@grpc/grpc-js';
import {
  RepositoryIndexResponse_ModelIndexSchema,
  RepositoryIndexResponseSchema,
  RepositoryModelLoadResponseSchema,
  RepositoryModelUnloadResponseSchema,
  type ModelRepositoryParameter,
  type RepositoryIndexRequest,
  type RepositoryIndexResponse,
  type RepositoryModelLoadRequest,
  type RepositoryModelLoadResponse,
  type RepositoryModelUnloadRequest,
  type RepositoryModelUnloadResponse,
} from '../../generated/grpc_service_pb.js';
import { InvalidArgumentError, UnsupportedError } from '../../errors/index.js';
import type { LoadModelParameters } from '../../server-types.js';
import { unary, type RpcContext } from './rpc-context.js';

/**
 * The model repository extension over gRPC (reference §1.5, §2.1, §8; Triton
 * `RegisterRepositoryIndex`, `RegisterRepositoryModelLoad`, `RegisterRepositoryModelUnload`).
 * A `repository_name` is refused first (UNIMPLEMENTED "'repository_name' specification is not
 * supported"), then parameters are checked with Triton's messages, then the core decides
 * (its errors carry the model-control-mode rules).
 */

export interface RepositoryHandlers {
  repositoryIndex: handleUnaryCall<RepositoryIndexRequest, RepositoryIndexResponse>;
  repositoryModelLoad: handleUnaryCall<RepositoryModelLoadRequest, RepositoryModelLoadResponse>;
  repositoryModelUnload: handleUnaryCall<RepositoryModelUnloadRequest, RepositoryModelUnloadResponse>;
}

const FILE_PREFIX = 'file:';

function refuseRepositoryName(name: string): void {
  if (name !== '') throw new UnsupportedError("'repository_name' specification is not supported");
}

/**
 * Load parameters: `config` must be a string_param, `file:<version>/<path>` a bytes_param
 * (kept under its parameter name, as the core expects), anything else is refused.
 * @throws InvalidArgumentError "invalid value type for load parameter '<k>', expected
 *   string_param." / "..., expected bytes_param." / "unrecognized load parameter '<k>'."
 */
export function decodeLoadParameters(map: {
  [key: string]: ModelRepositoryParameter;
}): LoadModelParameters | undefined {
  const out: LoadModelParameters = {};
  for (const key of Object.keys(map)) {
    const choice = map[key]!.parameterChoice;
    if (key === 'config') {
      if (choice.case !== 'stringParam') {
        throw new InvalidArgumentError(`invalid value type for load parameter '${key}', expected string_param.`);
      }
      out.config = choice.value;
    } else if (key.startsWith(FILE_PREFIX)) {
      if (choice.case !== 'bytesParam') {
        throw new InvalidArgumentError(`invalid value type for load parameter '${key}', expected bytes_param.`);
      }
      out.files ??= new Map();
      out.files.set(key, choice.value);
    } else {
      throw new InvalidArgumentError(`unrecognized load parameter '${key}'.`);
    }
  }
  return out.config === undefined && out.files === undefined ? undefined : out;
}

export function repositoryHandlers(ctx: RpcContext): RepositoryHandlers {
  const { core } = ctx;
  return {
    repositoryIndex: unary(ctx, 'model-repository', 'RepositoryIndex', (req) => {
      refuseRepositoryName(req.repositoryName);
      const rows = core.repositoryIndex(req.ready);
      return create(RepositoryIndexResponseSchema, {
        models: rows.map((r) =>
          create(RepositoryIndexResponse_ModelIndexSchema, {
            name: r.name,
            version: r.version ?? '',
            state: r.state ?? '',
            reason: r.reason ?? '',
          }),
        ),
      });
    }),

    repositoryModelLoad: unary(ctx, 'model-repository', 'RepositoryModelLoad', async (req) => {
      refuseRepositoryName(req.repositoryName);
      const parameters = decodeLoadParameters(req.parameters);
      await core.loadModel(req.modelName, parameters);
      return create(RepositoryModelLoadResponseSchema);
    }),

    repositoryModelUnload: unary(ctx, 'model-repository', 'RepositoryModelUnload', async (req) => {
      refuseRepositoryName(req.repositoryName);
      let unloadDependents = false;
      const param = req.parameters['unload_dependents'];
      if (param !== undefined) {
        if (param.parameterChoice.case !== 'boolParam') {
          throw new InvalidArgumentError("invalid value type for 'unload_dependents' parameter, expected bool_param.");
        }
        unloadDependents = param.parameterChoice.value;
      }
      await core.unloadModel(req.modelName, { unloadDependents });
      return create(RepositoryModelUnloadResponseSchema);
    }),
  };
}
