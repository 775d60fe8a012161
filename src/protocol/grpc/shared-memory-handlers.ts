import { create } from '@bufbuild/protobuf';
import type { handleUnaryCall } from '@grpc/grpc-js';
import {
  CudaSharedMemoryRegisterResponseSchema,
  CudaSharedMemoryStatusResponse_RegionStatusSchema,
  CudaSharedMemoryStatusResponseSchema,
  CudaSharedMemoryUnregisterResponseSchema,
  SystemSharedMemoryRegisterResponseSchema,
  SystemSharedMemoryStatusResponse_RegionStatusSchema,
  SystemSharedMemoryStatusResponseSchema,
  SystemSharedMemoryUnregisterResponseSchema,
  type CudaSharedMemoryRegisterRequest,
  type CudaSharedMemoryRegisterResponse,
  type CudaSharedMemoryStatusRequest,
  type CudaSharedMemoryStatusResponse,
  type CudaSharedMemoryUnregisterRequest,
  type CudaSharedMemoryUnregisterResponse,
  type SystemSharedMemoryRegisterRequest,
  type SystemSharedMemoryRegisterResponse,
  type SystemSharedMemoryStatusRequest,
  type SystemSharedMemoryStatusResponse,
  type SystemSharedMemoryUnregisterRequest,
  type SystemSharedMemoryUnregisterResponse,
} from '../../generated/grpc_service_pb.js';
import { NotFoundError, UnsupportedError } from '../../errors/index.js';
import { CLIENT_SHM_DISABLED, type SharedMemoryService } from '../../memory/index.js';
import { unary, type RpcContext } from './rpc-context.js';

/**
 * The system and CUDA shared-memory RPCs (reference §1.5, §2.1; Triton
 * `RegisterSystemSharedMemory*`, `RegisterCudaSharedMemory*`) over the core's region registry
 * (`ServerCore.sharedMemory()`), whose errors carry Triton's messages: status lists every
 * region keyed by name (NOT_FOUND "Unable to find system|cuda shared memory region: '<r>'"
 * for an unknown named one), register/unregister answer UNIMPLEMENTED with Triton's
 * `kClientShmDisabledErrorStr` unless `--allow-client-shm=true`. A core without a registry
 * answers as Triton with client shared memory disabled, its default: no region exists.
 */

export interface SharedMemoryHandlers {
  systemSharedMemoryStatus: handleUnaryCall<SystemSharedMemoryStatusRequest, SystemSharedMemoryStatusResponse>;
  systemSharedMemoryRegister: handleUnaryCall<SystemSharedMemoryRegisterRequest, SystemSharedMemoryRegisterResponse>;
  systemSharedMemoryUnregister: handleUnaryCall<
    SystemSharedMemoryUnregisterRequest,
    SystemSharedMemoryUnregisterResponse
  >;
  cudaSharedMemoryStatus: handleUnaryCall<CudaSharedMemoryStatusRequest, CudaSharedMemoryStatusResponse>;
  cudaSharedMemoryRegister: handleUnaryCall<CudaSharedMemoryRegisterRequest, CudaSharedMemoryRegisterResponse>;
  cudaSharedMemoryUnregister: handleUnaryCall<CudaSharedMemoryUnregisterRequest, CudaSharedMemoryUnregisterResponse>;
}

function disabled(): never {
  throw new UnsupportedError(CLIENT_SHM_DISABLED);
}

export function sharedMemoryHandlers(ctx: RpcContext): SharedMemoryHandlers {
  const service = (): SharedMemoryService | undefined => ctx.core.sharedMemory?.();
  const named = (name: string): string | undefined => (name === '' ? undefined : name);
  return {
    systemSharedMemoryStatus: unary(ctx, 'shared-memory', 'SystemSharedMemoryStatus', (req) => {
      const shm = service();
      if (shm === undefined && req.name !== '') {
        throw new NotFoundError(`Unable to find system shared memory region: '${req.name}'`);
      }
      const res = create(SystemSharedMemoryStatusResponseSchema);
      for (const r of shm?.systemStatus(named(req.name)) ?? []) {
        res.regions[r.name] = create(SystemSharedMemoryStatusResponse_RegionStatusSchema, {
          name: r.name,
          key: r.key,
          offset: BigInt(r.offset),
          byteSize: BigInt(r.byte_size),
        });
      }
      return res;
    }),
    systemSharedMemoryRegister: unary(ctx, 'shared-memory', 'SystemSharedMemoryRegister', (req) => {
      const shm = service() ?? disabled();
      shm.registerSystem(req.name, req.key, Number(req.offset), Number(req.byteSize));
      return create(SystemSharedMemoryRegisterResponseSchema);
    }),
    systemSharedMemoryUnregister: unary(ctx, 'shared-memory', 'SystemSharedMemoryUnregister', (req) => {
      (service() ?? disabled()).unregisterSystem(named(req.name));
      return create(SystemSharedMemoryUnregisterResponseSchema);
    }),
    cudaSharedMemoryStatus: unary(ctx, 'shared-memory', 'CudaSharedMemoryStatus', (req) => {
      const shm = service();
      if (shm === undefined && req.name !== '') {
        throw new NotFoundError(`Unable to find cuda shared memory region: '${req.name}'`);
      }
      const res = create(CudaSharedMemoryStatusResponseSchema);
      for (const r of shm?.cudaStatus(named(req.name)) ?? []) {
        res.regions[r.name] = create(CudaSharedMemoryStatusResponse_RegionStatusSchema, {
          name: r.name,
          deviceId: BigInt(r.device_id),
          byteSize: BigInt(r.byte_size),
        });
      }
      return res;
    }),
    cudaSharedMemoryRegister: unary(ctx, 'shared-memory', 'CudaSharedMemoryRegister', (req) => {
      const shm = service() ?? disabled();
      shm.registerCuda(req.name, req.rawHandle, Number(req.deviceId), Number(req.byteSize));
      return create(CudaSharedMemoryRegisterResponseSchema);
    }),
    cudaSharedMemoryUnregister: unary(ctx, 'shared-memory', 'CudaSharedMemoryUnregister', (req) => {
      (service() ?? disabled()).unregisterCuda(named(req.name));
      return create(CudaSharedMemoryUnregisterResponseSchema);
    }),
  };
}
