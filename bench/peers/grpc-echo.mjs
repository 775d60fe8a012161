// The protocol floor for gRPC: a bare @grpc/grpc-js server on infera's ModelInfer path that
// echoes the request bytes back without decoding them.
// Usage: node bench/peers/grpc-echo.mjs [port]   (prints "listening on <port>")
import { Server, ServerCredentials } from '@grpc/grpc-js';

const identity = (b) => b;
const server = new Server();
server.addService(
  {
    modelInfer: {
      path: '/inference.GRPCInferenceService/ModelInfer',
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  },
  { modelInfer: (call, callback) => callback(null, call.request) },
);
server.bindAsync(`127.0.0.1:${process.argv[2] ?? 0}`, ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  console.log(`listening on ${port}`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
