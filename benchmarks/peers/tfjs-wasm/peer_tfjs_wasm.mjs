// Benchmark peer for `facesearch bench embed`: times the face-api
// face-recognition network (dlib ResNet-34 variant, 150x150 RGB chip ->
// 128-D descriptor) on the tfjs WebAssembly backend, the way a JavaScript
// user of @vladmandic/face-api runs it (node-wasm bundle,
// faceRecognitionNet.computeFaceDescriptor).
//
// Usage:
//   node peer_tfjs_wasm.mjs --chips FILE --count N --batch B --threads T \
//        --seconds S [--dump OUT.f32]
//
// FILE holds N raw chips of 150*150*3 bytes (row-major, RGB interleaved,
// no header). Prints exactly one JSON line on stdout; everything else
// (including tfjs/emscripten chatter) goes to stderr. Exit 2 on bad
// arguments or input, 3 on any other failure.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const CHIP = 150;
const CHIP_BYTES = CHIP * CHIP * 3;
const DIM = 128;
const PREFIX = 'peer-tfjs-wasm: ';

// Keep stdout for the single JSON result line: route every console printer
// to stderr before any tfjs / face-api / emscripten code is loaded (tfjs
// prints e.g. backend and platform notices through console.log/warn).
const realStdoutWrite = process.stdout.write.bind(process.stdout);
{
  const toErr = (...args) => {
    process.stderr.write(args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ') + '\n');
  };
  for (const k of ['log', 'info', 'warn', 'debug', 'trace']) console[k] = toErr;
  // Anything written straight to process.stdout by a dependency also goes
  // to stderr; only emitResult() uses the real stdout.
  process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);
}

class UsageError extends Error {}

function fail(code, msg) {
  process.stderr.write(PREFIX + msg + '\n');
  process.exit(code);
}

function parseArgs(argv) {
  const want = new Set(['--chips', '--count', '--batch', '--threads', '--seconds', '--dump']);
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '-h' || k === '--help') {
      throw new UsageError('usage: node peer_tfjs_wasm.mjs --chips FILE --count N --batch B '
        + '--threads T --seconds S [--dump OUT.f32]');
    }
    if (!want.has(k)) throw new UsageError(`unknown argument '${k}'`);
    if (i + 1 >= argv.length) throw new UsageError(`missing value after ${k}`);
    if (k in a) throw new UsageError(`${k} given twice`);
    a[k] = argv[++i];
  }
  for (const k of ['--chips', '--count', '--batch', '--threads', '--seconds']) {
    if (!(k in a)) throw new UsageError(`missing required ${k}`);
  }
  const posInt = (k) => {
    const s = a[k];
    if (!/^[0-9]+$/.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s))) {
      throw new UsageError(`${k} must be a positive integer, got '${s}'`);
    }
    return Number(s);
  };
  const seconds = Number(a['--seconds']);
  if (!/^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/.test(a['--seconds']) || !Number.isFinite(seconds) || seconds < 0) {
    throw new UsageError(`--seconds must be a non-negative number, got '${a['--seconds']}'`);
  }
  return {
    chips: a['--chips'],
    count: posInt('--count'),
    batch: posInt('--batch'),
    threads: posInt('--threads'),
    seconds,
    dump: a['--dump'] ?? null,
  };
}

function readChips(file, count) {
  let st;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new UsageError(`cannot read chips file '${file}': ${e.code || e.message}`);
  }
  if (!st.isFile()) throw new UsageError(`chips file '${file}' is not a regular file`);
  const want = count * CHIP_BYTES;
  if (st.size !== want) {
    throw new UsageError(`chips file '${file}' has ${st.size} bytes, expected ${want} `
      + `(${count} * ${CHIP_BYTES})`);
  }
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read chips file '${file}': ${e.code || e.message}`);
  }
  if (buf.length !== want) throw new UsageError(`short read on '${file}'`);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const chips = readChips(opt.chips, opt.count);

  const require = createRequire(import.meta.url);
  const faceapiPkg = path.dirname(require.resolve('@vladmandic/face-api/package.json'));
  const wasmPkg = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const modelDir = path.join(faceapiPkg, 'model');
  const wasmDir = path.join(wasmPkg, 'dist') + path.sep;
  for (const f of ['face_recognition_model-weights_manifest.json', 'face_recognition_model.bin']) {
    if (!fs.existsSync(path.join(modelDir, f))) throw new Error(`model file missing: ${path.join(modelDir, f)}`);
  }

  // The node-wasm bundle re-exports @tensorflow/tfjs and
  // @tensorflow/tfjs-backend-wasm as faceapi.tf (same module instances).
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const tf = faceapi.tf;

  tf.setWasmPaths(wasmDir); // local files, read with fs by emscripten
  tf.setThreadsCount(opt.threads); // must precede backend initialisation
  const ok = await tf.setBackend('wasm');
  await tf.ready();
  if (!ok || tf.getBackend() !== 'wasm') throw new Error(`wasm backend did not initialise (backend: ${tf.getBackend()})`);

  // In Node, tfjs-backend-wasm 4.22 reports WASM_HAS_MULTITHREAD_SUPPORT =
  // false (tfjs issue #3830), so the single-threaded SIMD binary is loaded
  // and setThreadsCount has no effect; report what is really used.
  const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const xnnThreads = tf.getThreadsCount();
  const threadsEffective = mt && simd ? Math.max(1, xnnThreads) : 1;
  const binary = mt && simd ? 'tfjs-backend-wasm-threaded-simd.wasm'
    : simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
  process.stderr.write(`${PREFIX}face-api ${faceapi.version}, tfjs ${tf.version_core}, `
    + `binary ${binary}, threads requested ${opt.threads}, effective ${threadsEffective}\n`);

  const net = faceapi.nets.faceRecognitionNet;
  await net.loadFromDisk(modelDir);

  // Descriptors of `b` chips starting at chip index `start` (cycling).
  // face-api's toNetInput refuses a Tensor4D whose batch is > 1, so the
  // user-level batch call is computeFaceDescriptor(array of Tensor3D): it
  // stacks them into one [B,150,150,3] batch and runs the net once.
  const staging = new Float32Array(opt.batch * CHIP_BYTES);
  async function embed(start, b) {
    const buf = b === opt.batch ? staging : new Float32Array(b * CHIP_BYTES);
    for (let j = 0; j < b; j++) {
      const src = ((start + j) % opt.count) * CHIP_BYTES;
      const dst = j * CHIP_BYTES;
      for (let k = 0; k < CHIP_BYTES; k++) buf[dst + k] = chips[src + k];
    }
    const batch = tf.tensor4d(buf, [b, CHIP, CHIP, 3], 'float32');
    const items = tf.unstack(batch);
    let out;
    try {
      out = await net.computeFaceDescriptor(items);
    } finally {
      tf.dispose(items);
      batch.dispose();
    }
    if (!Array.isArray(out) || out.length !== b || out.some((d) => !d || d.length !== DIM)) {
      throw new Error(`computeFaceDescriptor returned ${Array.isArray(out) ? out.length : typeof out} `
        + `descriptors for a batch of ${b}`);
    }
    return out;
  }

  if (opt.dump) {
    const all = new Float32Array(opt.count * DIM);
    for (let i = 0; i < opt.count; i += opt.batch) {
      const b = Math.min(opt.batch, opt.count - i);
      const d = await embed(i, b);
      for (let j = 0; j < b; j++) all.set(d[j], (i + j) * DIM);
    }
    const bytes = Buffer.alloc(all.length * 4);
    for (let i = 0; i < all.length; i++) bytes.writeFloatLE(all[i], i * 4);
    fs.writeFileSync(opt.dump, bytes);
  }

  const tensorsBefore = tf.memory().numTensors;
  let next = 0;
  await embed(next, opt.batch); // warm-up
  next = (next + opt.batch) % opt.count;

  const times = [];
  const limitNs = BigInt(Math.round(opt.seconds * 1e9));
  const t0 = process.hrtime.bigint();
  while (times.length < 5 || process.hrtime.bigint() - t0 < limitNs) {
    const s = process.hrtime.bigint();
    await embed(next, opt.batch);
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
    next = (next + opt.batch) % opt.count;
  }
  const tensorsAfter = tf.memory().numTensors;
  if (tensorsAfter !== tensorsBefore) {
    process.stderr.write(`${PREFIX}warning: tensor count grew from ${tensorsBefore} to ${tensorsAfter}\n`);
  }

  const msPerFace = median(times) / opt.batch;
  const result = {
    engine: 'tfjs-wasm',
    batch: opt.batch,
    threads_effective: threadsEffective,
    timed_batches: times.length,
    ms_per_face: Number(msPerFace.toFixed(4)),
    faces_per_s: Number((1000 / msPerFace).toFixed(3)),
  };
  await new Promise((resolve) => realStdoutWrite(JSON.stringify(result) + '\n', resolve));
}

main().then(
  () => process.exit(0),
  (e) => {
    if (e instanceof UsageError) fail(2, e.message);
    const msg = e && e.message ? e.message : String(e);
    fail(3, msg);
  },
);
