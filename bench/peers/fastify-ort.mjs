// The server a Node developer writes today: fastify + onnxruntime-node, one session, KServe-v2
// JSON in and out (float arrays), no batching, inference on the event loop.
// Usage: node bench/peers/fastify-ort.mjs <model.onnx> [port] [intraOpThreads]
import Fastify from 'fastify';
import ort from 'onnxruntime-node';

const [file, port = '0', threads = '1'] = process.argv.slice(2);
const session = await ort.InferenceSession.create(file, { intraOpNumThreads: Number(threads), executionProviders: ['cpu'] });
const app = Fastify({ bodyLimit: 256 * 1024 * 1024, logger: false });

app.post('/v2/models/:model/infer', async (req, reply) => {
  const outputs = await session.run(
    Object.fromEntries(req.body.inputs.map((i) => [i.name, new ort.Tensor('float32', Float32Array.from(i.data), i.shape)])),
  );
  return {
    model_name: req.params.model,
    model_version: '1',
    outputs: Object.entries(outputs).map(([name, t]) => ({ name, datatype: 'FP32', shape: t.dims, data: Array.from(t.data) })),
  };
});

const address = await app.listen({ port: Number(port), host: '127.0.0.1' });
console.log(`listening on ${new URL(address).port}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
