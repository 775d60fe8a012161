import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { create } from '@bufbuild/protobuf';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { GrpcClient } from '../client/grpc-client.js';
import type { HttpClient } from '../client/http-client.js';
import { SystemSharedMemoryRegisterRequestSchema, SystemSharedMemoryUnregisterRequestSchema } from '../generated/grpc_service_pb.js';
import { DATATYPE_BYTE_SIZE, elementCount } from '../infer/datatype.js';
import { INFERENCE_SERVICE } from '../protocol/grpc/service-definition.js';
import type { SharedMemoryLayout } from './load/worker-protocol.js';
import { dimsWithoutBatch, type ModelInfo } from './model-info.js';
import type { PerfOptions } from './perf-options.js';
import type { InputPlan } from './prepared-tensor.js';

/**
 * `--shared-memory system`: the input data is written once into a POSIX shared-memory object
 * (`/dev/shm/<key>`, what `shm_open(key)` opens) and every request only names the region; each
 * concurrent request slot gets an output region of its own. Regions are registered with the
 * server's shared-memory extension (HTTP `POST /v2/systemsharedmemory/region/{name}/register`
 * with `{key, offset, byte_size}`, or the gRPC SystemSharedMemoryRegister RPC) and unregistered
 * and removed at the end. perf does not read the outputs, so writing the inputs with plain file
 * I/O needs no mapping of its own.
 */
export interface SharedMemorySession {
  layout: SharedMemoryLayout;
  /** Unregisters the regions and removes the shared-memory objects; never throws. */
  release(): Promise<void>;
}

const ALIGN = 64;
const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

interface Registrar {
  register(name: string, key: string, byteSize: number): Promise<void>;
  unregister(name: string): Promise<void>;
  close(): void;
}

function httpRegistrar(url: string, headers: Record<string, string>): Registrar {
  const post = async (path: string, body: string): Promise<void> => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON
      }
      throw new Error(`HTTP ${res.status}: ${message}`);
    }
  };
  return {
    register: (name, key, byteSize) =>
      post(`/v2/systemsharedmemory/region/${encodeURIComponent(name)}/register`, JSON.stringify({ key, offset: 0, byte_size: byteSize })),
    unregister: (name) => post(`/v2/systemsharedmemory/region/${encodeURIComponent(name)}/unregister`, ''),
    close() {},
  };
}

function grpcRegistrar(url: string): Registrar {
  const client = new Client(url, credentials.createInsecure());
  const call = <Req>(method: { path: string; requestSerialize: (r: Req) => Buffer; responseDeserialize: (b: Buffer) => unknown }, req: Req) =>
    new Promise<void>((resolve, reject) => {
      client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, req, new Metadata(), {}, (err) =>
        err ? reject(new Error(`gRPC status ${err.code}: ${err.details || err.message}`)) : resolve(),
      );
    });
  return {
    register: (name, key, byteSize) =>
      call(INFERENCE_SERVICE.systemSharedMemoryRegister, create(SystemSharedMemoryRegisterRequestSchema, { name, key, offset: 0n, byteSize: BigInt(byteSize) })),
    unregister: (name) => call(INFERENCE_SERVICE.systemSharedMemoryUnregister, create(SystemSharedMemoryUnregisterRequestSchema, { name })),
    close: () => client.close(),
  };
}

/** Bytes one output needs for a request: exact for fixed shapes, else `--output-shared-memory-size` × batch. */
function outputByteSize(model: ModelInfo, index: number, o: PerfOptions): number {
  const t = model.outputs[index]!;
  const dims = dimsWithoutBatch(model, t);
  const size = DATATYPE_BYTE_SIZE[t.datatype];
  if (size === 0 || dims.includes(-1)) return o.outputSharedMemorySize * o.batchSize;
  return elementCount(dims) * size * (model.maxBatchSize > 0 ? o.batchSize : 1);
}

/**
 * Creates and registers the regions for a run.
 * @param url the server, normalized (server-url.ts) for the client's protocol
 * @param slots output regions to create: the most requests that can be in flight at once
 * @throws Error when /dev/shm is missing, or when the server refuses a registration (its
 *   message; e.g. infera before its shared-memory extension, or Triton with
 *   `--allow-client-shm=false`, answers "Client shared memory is disabled ...")
 */
export async function setupSharedMemory(
  client: HttpClient | GrpcClient,
  url: string,
  model: ModelInfo,
  plan: InputPlan,
  o: PerfOptions,
  slots: number,
): Promise<SharedMemorySession> {
  if (!existsSync('/dev/shm')) throw new Error('--shared-memory system needs POSIX shared memory (/dev/shm), which this system lacks');
  const registrar = client instanceof GrpcClient ? grpcRegistrar(url) : httpRegistrar(url, o.headers);
  const prefix = `infera_perf_${process.pid}_${Date.now().toString(36)}`;
  const registered: string[] = [];
  const files: string[] = [];
  const release = async (): Promise<void> => {
    for (const name of registered) await registrar.unregister(name).catch(() => undefined);
    for (const f of files) rmSync(f, { force: true });
    registrar.close();
  };

  try {
    // Inputs: every step of every stream, one after the other.
    let offset = 0;
    const inputs = plan.streams.map((steps) =>
      steps.map((step) =>
        step.map((t) => {
          const at = offset;
          offset = align(offset + t.raw.byteLength);
          return { region: `${prefix}_in`, offset: at, byteSize: t.raw.byteLength };
        }),
      ),
    );
    const inputBytes = Buffer.alloc(Math.max(offset, ALIGN));
    plan.streams.forEach((steps, s) => steps.forEach((step, k) => step.forEach((t, i) => inputBytes.set(t.raw, inputs[s]![k]![i]!.offset))));
    const create = async (name: string, bytes: Buffer): Promise<void> => {
      const file = `/dev/shm/${name}`;
      writeFileSync(file, bytes, { mode: 0o600 });
      files.push(file);
      try {
        await registrar.register(name, `/${name}`, bytes.byteLength);
      } catch (err) {
        throw new Error(`--shared-memory system: the server refused to register region '${name}': ${(err as Error).message}`, { cause: err });
      }
      registered.push(name);
    };
    await create(`${prefix}_in`, inputBytes);

    let outOffset = 0;
    const outputs = model.outputs.map((t, i) => {
      const byteSize = outputByteSize(model, i, o);
      const at = outOffset;
      outOffset = align(outOffset + byteSize);
      return { name: t.name, offset: at, byteSize };
    });
    const outputRegions: string[] = [];
    for (let slot = 0; slot < slots; slot++) {
      const name = `${prefix}_out${slot}`;
      await create(name, Buffer.alloc(Math.max(outOffset, ALIGN)));
      outputRegions.push(name);
    }
    return { layout: { inputs, outputRegions, outputs }, release };
  } catch (err) {
    await release();
    throw err;
  }
}
