// Runs faceres-deep on the tfjs WASM backend over the input tensors that
// training/faceres.py's check writes, and writes tfjs's outputs beside them,
// so that the PyTorch rebuild is checked against the network as it ships.
//
//   node bench/faceres/faceres.mjs --modules DIR --model faceres-deep.json --io DIR
//
// DIR/inputs.json: {"n": N, "size": S}; DIR/inputs.bin: N x S x S x 3 float32
// (BGR minus the mean pixel, NHWC, as the graph takes it). Writes
// DIR/tfjs.json: {"backend", "age": N x 100, "male": N, "descriptor": N x 1024}.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['modules', 'model', 'io']) {
  if (!args[k]) {
    console.error(`faceres.mjs: --${k} is required`);
    process.exit(2);
  }
}
const require = createRequire(path.join(args.modules, 'x.js'));
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');

if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend did not start');
await tf.ready();

const graph = JSON.parse(fs.readFileSync(args.model, 'utf8'));
const weightData = graph.weightsManifest.flatMap((g) => g.paths)
  .map((p) => fs.readFileSync(path.join(path.dirname(args.model), p)));
const blob = Buffer.concat(weightData);
const model = await tf.loadGraphModel(tf.io.fromMemory({
  modelTopology: graph.modelTopology,
  weightSpecs: graph.weightsManifest.flatMap((g) => g.weights),
  weightData: blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength),
  format: graph.format, generatedBy: graph.generatedBy, convertedBy: graph.convertedBy,
}));

const meta = JSON.parse(fs.readFileSync(path.join(args.io, 'inputs.json'), 'utf8'));
const raw = fs.readFileSync(path.join(args.io, 'inputs.bin'));
const x = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [meta.n, meta.size, meta.size, 3]);
const [age, male, desc] = model.execute(x, ['age_pred/Softmax:0', 'gender_pred/Sigmoid:0', 'global_pooling/Mean:0']);
const out = {
  backend: tf.getBackend(),
  tfjs: tf.version_core,
  age: await age.array(),
  male: (await male.array()).map((r) => r[0]),
  descriptor: await desc.array(),
};
fs.writeFileSync(path.join(args.io, 'tfjs.json'), JSON.stringify(out));
console.error(`faceres.mjs: ${meta.n} inputs through faceres-deep on tfjs ${out.tfjs} ${out.backend}`);
