#!/usr/bin/env node
// ort_run.js: runs an ONNX model with ONNX Runtime (onnxruntime-node, CPU execution
// provider) so qmap's tests and benchmarks can compare against it. It is the project's
// peer, not part of qmap: nothing in src/ depends on it.
//
// usage: node ort_run.js MODEL.onnx [options]
//   --threads N              intra-op threads (default 1); inter-op is 1, sequential execution
//   --input NAME=PATH:DTYPE:DIMS
//                            feed input NAME from a raw little-endian file, e.g.
//                            --input data=x.bin:float32:1x3x224x224 (repeatable). DTYPE is one of
//                            float32 float64 int8 uint8 int16 uint16 int32 int64 bool; the file
//                            size must be exactly prod(DIMS) * sizeof(DTYPE) bytes
//   --random-seed N          fill every input not given by --input with seeded random data (see
//                            "Random inputs" below); without it every input needs --input
//   --shape NAME=DIMS        dims for a random input whose model shape has symbolic dims
//                            (default: each symbolic dim is 1)
//   --out-dir DIR            write each output i as DIR/output_<i>.bin (raw float32, little-endian,
//                            row-major; other dtypes are converted to float32) and DIR/manifest.json:
//                            {"model", "threads", "inputs": [{name,dtype,dims,file?}],
//                             "outputs": [{"name","file","dims","dtype"(source dtype)}]}
//   --save-inputs DIR        also write the inputs that were fed as DIR/input_<i>.bin (their own dtype)
//   --time N                 time N runs after --warmup runs; prints one JSON line
//                            {"median_ms","min_ms","mean_ms","runs","warmup","threads",
//                            "times_ms": every timed run, in order} on stdout
//   --warmup N               warm-up runs before --time (default 5)
//   --opt LEVEL              graph optimisation: disabled|basic|extended|all (default all)
//   --check                  load onnxruntime-node, print {"onnxruntime_node": VERSION} and exit
//                            (no model needed); fails with install instructions if it is missing
//   -h, --help               this text
//
// Random inputs (--random-seed N): a xorshift32 generator seeded with N (0 is replaced by 1),
// advanced once per element in input order (first input first, row-major within an input).
// Each step yields u = (s >>> 8) / 2^24 in [0, 1). Float inputs get 2*u - 1, i.e. uniform
// in [-1, 1); integer inputs get floor(u * 4) in {0..3}; bool inputs get u < 0.5.
// The same numbers can be reproduced in any language from this description.
//
// Exit status: 0 on success, 1 on any error, with a one-line message on stderr naming the
// option, file or input concerned. stdout carries only the --time JSON line (if any).
'use strict';

const fs = require('fs');
const path = require('path');

function usage() {
  const lines = fs.readFileSync(__filename, 'utf8').split('\n');
  const end = lines.findIndex((l) => l.startsWith("'use strict'"));
  return lines.slice(1, end).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
}

class UserError extends Error {}
const fail = (msg) => { throw new UserError(msg); };

// Typed-array constructor and ORT type name for every dtype the file format allows.
const DTYPES = {
  float32: { ctor: Float32Array, ort: 'float32', size: 4 },
  float64: { ctor: Float64Array, ort: 'float64', size: 8 },
  int8: { ctor: Int8Array, ort: 'int8', size: 1 },
  uint8: { ctor: Uint8Array, ort: 'uint8', size: 1 },
  int16: { ctor: Int16Array, ort: 'int16', size: 2 },
  uint16: { ctor: Uint16Array, ort: 'uint16', size: 2 },
  int32: { ctor: Int32Array, ort: 'int32', size: 4 },
  int64: { ctor: BigInt64Array, ort: 'int64', size: 8 },
  bool: { ctor: Uint8Array, ort: 'bool', size: 1 },
};

function parseDims(text, what) {
  if (text === '' || text === 'scalar') return [];
  const dims = text.split(/[x,]/).map((d) => {
    if (!/^\d+$/.test(d)) fail(`${what}: bad dims '${text}': expected e.g. 1x3x224x224`);
    return Number(d);
  });
  return dims;
}

function parseIntArg(v, opt, min) {
  if (!/^-?\d+$/.test(v) || Number(v) < min) fail(`${opt}: bad value '${v}': expected an integer >= ${min}`);
  return Number(v);
}

function parseArgs(argv) {
  const a = { threads: 1, inputs: new Map(), shapes: new Map(), seed: null, outDir: null, saveInputs: null,
              time: 0, warmup: 5, opt: 'all', model: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) fail(`${k}: missing value`); return argv[++i]; };
    switch (k) {
      case '-h': case '--help': process.stdout.write(usage() + '\n'); process.exit(0); break;
      case '--check': a.check = true; break;
      case '--threads': a.threads = parseIntArg(v(), k, 1); break;
      case '--random-seed': a.seed = parseIntArg(v(), k, 0); break;
      case '--out-dir': a.outDir = v(); break;
      case '--save-inputs': a.saveInputs = v(); break;
      case '--time': a.time = parseIntArg(v(), k, 1); break;
      case '--warmup': a.warmup = parseIntArg(v(), k, 0); break;
      case '--opt': {
        a.opt = v();
        if (!['disabled', 'basic', 'extended', 'all'].includes(a.opt)) fail(`--opt: bad value '${a.opt}': expected disabled|basic|extended|all`);
        break;
      }
      case '--input': {
        const spec = v();
        const m = /^([^=]+)=(.+):([a-z0-9]+):([0-9x,]*|scalar)$/.exec(spec);
        if (!m) fail(`--input: bad spec '${spec}': expected NAME=PATH:DTYPE:DIMS, e.g. data=x.bin:float32:1x3x224x224`);
        const [, name, file, dtype, dims] = m;
        if (!DTYPES[dtype]) fail(`--input ${name}: unknown dtype '${dtype}': expected one of ${Object.keys(DTYPES).join(' ')}`);
        if (a.inputs.has(name)) fail(`--input ${name}: given twice`);
        a.inputs.set(name, { file, dtype, dims: parseDims(dims, `--input ${name}`) });
        break;
      }
      case '--shape': {
        const spec = v();
        const m = /^([^=]+)=([0-9x,]*)$/.exec(spec);
        if (!m) fail(`--shape: bad spec '${spec}': expected NAME=DIMS, e.g. data=1x3x224x224`);
        a.shapes.set(m[1], parseDims(m[2], `--shape ${m[1]}`));
        break;
      }
      default:
        if (k.startsWith('-')) fail(`unknown option '${k}' (see --help)`);
        if (a.model !== null) fail(`more than one model path ('${a.model}', '${k}')`);
        a.model = k;
    }
  }
  if (a.check) return a;
  if (a.model === null) fail('no model path given (see --help)');
  if (!fs.existsSync(a.model)) fail(`model '${a.model}': no such file`);
  if (!a.outDir && !a.time) fail('nothing to do: give --out-dir DIR and/or --time N');
  return a;
}

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    fail(`cannot load onnxruntime-node (${e.message.split('\n')[0]}); install it with: ` +
         `cd ${__dirname} && ONNXRUNTIME_NODE_INSTALL=skip npm install`);
  }
  return null;
}

const prod = (dims) => dims.reduce((p, q) => p * q, 1);

// xorshift32 stream shared by all random inputs (see the header for the exact rule).
function makeRng(seed) {
  let s = (seed >>> 0) || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s >>> 8) / 16777216;
  };
}

function readInput(name, spec) {
  const dt = DTYPES[spec.dtype];
  let buf;
  try { buf = fs.readFileSync(spec.file); } catch (e) { fail(`--input ${name}: cannot read '${spec.file}': ${e.code || e.message}`); }
  const want = prod(spec.dims) * dt.size;
  if (buf.length !== want) {
    fail(`--input ${name}: file '${spec.file}' has ${buf.length} bytes: ${spec.dtype} [${spec.dims.join('x')}] needs ${want}`);
  }
  // Copy into an aligned buffer (Buffer slices may be unaligned for 4/8-byte types).
  const ab = new ArrayBuffer(want);
  new Uint8Array(ab).set(buf);
  return new dt.ctor(ab);
}

function randomInput(meta, dims, rng) {
  const n = prod(dims);
  const type = meta.type;
  const dt = Object.values(DTYPES).find((d) => d.ort === type);
  if (!dt) fail(`input '${meta.name}': cannot make random data of type ${type}`);
  const out = new dt.ctor(n);
  for (let i = 0; i < n; i++) {
    const u = rng();
    if (type === 'float32' || type === 'float64') out[i] = 2 * u - 1;
    else if (type === 'bool') out[i] = u < 0.5 ? 1 : 0;
    else if (type === 'int64') out[i] = BigInt(Math.floor(u * 4));
    else out[i] = Math.floor(u * 4);
  }
  return out;
}

function toFloat32(data) {
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}

function writeFileAtomic(file, data) {
  const tmp = `${file}.tmp${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  if (a.check) {
    const version = require('onnxruntime-node/package.json').version;
    process.stdout.write(JSON.stringify({ onnxruntime_node: version }) + '\n');
    return;
  }
  const opts = {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: a.opt,
  };
  let sess;
  try {
    sess = await ort.InferenceSession.create(a.model, opts);
  } catch (e) {
    fail(`model '${a.model}': onnxruntime cannot load it: ${String(e.message || e).split('\n')[0]}`);
  }

  const metas = sess.inputMetadata || sess.inputNames.map((n) => ({ name: n, isTensor: true, type: 'float32', shape: [] }));
  for (const name of a.inputs.keys()) {
    if (!sess.inputNames.includes(name)) fail(`--input ${name}: the model has no such input (inputs: ${sess.inputNames.join(', ')})`);
  }
  for (const name of a.shapes.keys()) {
    if (!sess.inputNames.includes(name)) fail(`--shape ${name}: the model has no such input (inputs: ${sess.inputNames.join(', ')})`);
  }

  const rng = a.seed === null ? null : makeRng(a.seed);
  const feeds = {};
  const inputsInfo = [];
  for (const meta of metas) {
    const name = meta.name;
    let dims; let data; let dtype; let file;
    if (a.inputs.has(name)) {
      const spec = a.inputs.get(name);
      if (meta.type && DTYPES[spec.dtype].ort !== meta.type) {
        fail(`--input ${name}: dtype ${spec.dtype} given but the model wants ${meta.type}`);
      }
      dims = spec.dims; dtype = spec.dtype; file = spec.file;
      data = readInput(name, spec);
    } else if (rng) {
      if (a.shapes.has(name)) dims = a.shapes.get(name);
      else dims = (meta.shape || []).map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
      dtype = meta.type;
      data = randomInput(meta, dims, rng);
    } else {
      fail(`input '${name}' has no --input and no --random-seed was given`);
    }
    // Static model dims must match what is fed; ORT would say so too, but less clearly.
    if (meta.shape && meta.shape.length) {
      const bad = meta.shape.length !== dims.length ||
                  meta.shape.some((d, i) => typeof d === 'number' && d >= 0 && d !== dims[i]);
      if (bad) fail(`input '${name}': dims [${dims.join('x')}] do not match the model's [${meta.shape.join('x')}]`);
    }
    feeds[name] = new ort.Tensor(DTYPES[dtype] ? DTYPES[dtype].ort : dtype, data, dims);
    inputsInfo.push({ name, dtype, dims, ...(file ? { file } : {}) });
  }

  let results;
  try {
    results = await sess.run(feeds);
  } catch (e) {
    fail(`model '${a.model}': onnxruntime run failed: ${String(e.message || e).split('\n')[0]}`);
  }

  if (a.saveInputs) {
    fs.mkdirSync(a.saveInputs, { recursive: true });
    inputsInfo.forEach((info, i) => {
      const d = feeds[info.name].data;
      const f = path.join(a.saveInputs, `input_${i}.bin`);
      writeFileAtomic(f, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
      info.saved = f;
    });
  }

  if (a.outDir) {
    fs.mkdirSync(a.outDir, { recursive: true });
    const outputs = sess.outputNames.map((name, i) => {
      const t = results[name];
      const f32 = toFloat32(t.data);
      const file = `output_${i}.bin`;
      writeFileAtomic(path.join(a.outDir, file), Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength));
      return { name, file, dims: t.dims.map(Number), dtype: t.type };
    });
    const manifest = { model: a.model, threads: a.threads, opt: a.opt, inputs: inputsInfo, outputs };
    writeFileAtomic(path.join(a.outDir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  }

  if (a.time) {
    for (let i = 0; i < a.warmup; i++) await sess.run(feeds);
    const ts = [];
    for (let i = 0; i < a.time; i++) {
      const t0 = process.hrtime.bigint();
      await sess.run(feeds);
      ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const s = [...ts].sort((p, q) => p - q);
    const m = s.length >> 1;
    const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    const r = (x) => Math.round(x * 1000) / 1000;
    process.stdout.write(JSON.stringify({
      model: a.model, threads: a.threads, median_ms: r(median), min_ms: r(s[0]),
      mean_ms: r(ts.reduce((p, q) => p + q, 0) / ts.length), runs: ts.length, warmup: a.warmup,
      times_ms: ts.map(r),
    }) + '\n');
  }
}

main().catch((e) => {
  const msg = e instanceof UserError ? e.message : `internal error: ${e.stack || e}`;
  process.stderr.write(`ort_run: ${msg}\n`);
  process.exit(1);
});
