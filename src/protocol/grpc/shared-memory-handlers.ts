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
import type { SharedMemoryService } from '../../memory/index.js';
import { unary, type RpcContext } from './rpc-context.js';

/**
 * The system and CUDA shared-memory RPCs (reference §1.5, §2.1; Triton
 * `RegisterSystemSharedMemory*`, `RegisterCudaSharedMemory*`) over the core's region registry
 * (`ServerCore.sharedMemory()`), whose errors carry Triton's messages: status lists every
 * region keyed by name (NOT_FOUND "Unable to find system|cuda shared memory region: '<r>'"
 * for an unknown named one), register/unregister answer UNIMPLEMENTED with Triton's
 * `kClientShmDisabledErrorStr` unless `--allow-client-shm=true`.
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

export function sharedMemoryHandlers(ctx: RpcContext): SharedMemoryHandlers {
  const service = (): SharedMemoryService => ctx.core.sharedMemory();
  const named = (name: string): string | undefined => (name === '' ? undefined : name);
  return {
    systemSharedMemoryStatus: unary(ctx, 'shared-memory', 'SystemSharedMemoryStatus', (req) => {
      const res = create(SystemSharedMemoryStatusResponseSchema);
      for (const r of service().systemStatus(named(req.name))) {
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
      service().registerSystem(req.name, req.key, Number(req.offset), Number(req.byteSize));
      return create(SystemSharedMemoryRegisterResponseSchema);
    }),
    systemSharedMemoryUnregister: unary(ctx, 'shared-memory', 'SystemSharedMemoryUnregister', (req) => {
      service().unregisterSystem(named(req.name));
      return create(SystemSharedMemoryUnregisterResponseSchema);
    }),
    cudaSharedMemoryStatus: unary(ctx, 'shared-memory', 'CudaSharedMemoryStatus', (req) => {
      const res = create(CudaSharedMemoryStatusResponseSchema);
      for (const r of service().cudaStatus(named(req.name))) {
        res.regions[r.name] = create(CudaSharedMemoryStatusResponse_RegionStatusSchema, {
          name: r.name,
          deviceId: BigInt(r.device_id),
          byteSize: BigInt(r.byte_size),
        });
      }
      return res;
    }),
    cudaSharedMemoryRegister: unary(ctx, 'shared-memory', 'CudaSharedMemoryRegister', (req) => {
      service().registerCuda(req.name, req.rawHandle, Number(req.deviceId), Number(req.byteSize));
      return create(CudaSharedMemoryRegisterResponseSchema);
    }),
    cudaSharedMemoryUnregister: unary(ctx, 'shared-memory', 'CudaSharedMemoryUnregister', (req) => {
      service().unregisterCuda(named(req.name));
      return create(CudaSharedMemoryUnregisterResponseSchema);
    }),
  };
}
