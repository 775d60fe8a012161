// The compute limit: onnxruntime-node in-process, one session with the server's thread count,
// running one fixed input of `batch` samples back to back. Prints one JSON line:
// { batch, threads, runs, seconds, msPerRun, inferPerSec }.
// Usage: node bench/lib/inproc-ort.mjs <model.onnx> <input> <shape,of,one,sample> <batch> <threads> <seconds>
import ort from 'onnxruntime-node';
import { pseudoRandomFloats } from './bodies.mjs';

const [file, input, shapeText, batchText, threadsText, secondsText] = process.argv.slice(2);
const batch = Number(batchText);
const threads = Number(threadsText);
const shape = [batch, ...shapeText.split(',').map(Number).slice(1)];
const count = shape.reduce((a, b) => a * b, 1);
const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, executionProviders: ['cpu'] });
const feeds = { [input]: new ort.Tensor('float32', pseudoRandomFloats(count), shape) };

const warmUntil = performance.now() + 1000;
for (let i = 0; i < 3 || performance.now() < warmUntil; i++) await session.run(feeds);
let runs = 0;
const start = performance.now();
const end = start + Number(secondsText) * 1000;
while (performance.now() < end) {
  await session.run(feeds);
  runs++;
}
const seconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({ batch, threads, runs, seconds, msPerRun: (seconds * 1000) / runs, inferPerSec: (runs * batch) / seconds }));
