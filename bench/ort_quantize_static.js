#!/usr/bin/env node
// The ONNX Runtime side of bench/ort_quantize_static.py (see there): runs a model in ONNX
// Runtime (onnxruntime-node from tools/ort, CPU, 1 thread) over raw image files that
// `qmap preprocess` wrote (one uint8 tensor per file, the model input's layout).
//
//   node ort_quantize_static.js minmax --model M.onnx --data DIR --out ranges.json
//       every float output of M over every DIR/*.bin: {"<output>": [min, max]} (ONNX Runtime's
//       MinMax calibrator keeps exactly these two numbers per tensor)
//   node ort_quantize_static.js eval --model FLOAT.onnx --model INT8.onnx --data DIR
//       --labels FILE [--label-offset K] --json OUT.json
//       top-1/top-5 of each model over the '<image file> <label>' lines (DIR/<file's stem>.bin),
//       and the second model's mean output cosine, top-1 agreement, and images lost and gained
//       against the first
// Errors: one line on stderr naming the file or option, exit 1.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', 'tools', 'ort', 'node_modules', 'onnxruntime-node'));

class UserError extends Error {}
const fail = (m) => { throw new UserError(m); };

function parse(argv) {
  const o = { models: [], labelOffset: 0 };
  o.cmd = argv[0];
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i], v = argv[i + 1];
    if (v === undefined) fail(`${k}: missing value`);
    if (k === '--model') o.models.push(v);
    else if (k === '--data') o.data = v;
    else if (k === '--out') o.out = v;
    else if (k === '--labels') o.labels = v;
    else if (k === '--json') o.json = v;
    else if (k === '--label-offset') o.labelOffset = parseInt(v, 10);
    else fail(`unknown option '${k}'`);
  }
  return o;
}

async function open(file) {
  if (!fs.existsSync(file)) fail(`model '${file}': no such file`);
  const s = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
  return s;
}

// The model's one input, fed from a raw uint8 file of exactly its size.
function feed(session, meta, file) {
  if (!fs.existsSync(file)) fail(`'${file}': no such file (not preprocessed?)`);
  const buf = fs.readFileSync(file);
  const n = meta.dims.reduce((a, b) => a * b, 1);
  if (buf.length !== n) fail(`'${file}': ${buf.length} bytes, the input '${meta.name}' needs ${n} (dims ${meta.dims.join('x')})`);
  return { [meta.name]: new ort.Tensor('uint8', new Uint8Array(buf.buffer, buf.byteOffset, n), meta.dims) };
}

function inputMeta(file) {
  // onnxruntime-node 1.30 exposes names only; the dims come from the model's graph input,
  // which the .py side writes as static dims into '<model>.input.json'.
  const j = file + '.input.json';
  if (!fs.existsSync(j)) fail(`'${j}': no such file (written by ort_quantize_static.py)`);
  return JSON.parse(fs.readFileSync(j, 'utf8'));
}

function binFiles(dir) {
  if (!fs.existsSync(dir)) fail(`data folder '${dir}': no such folder`);
  const f = fs.readdirSync(dir).filter((x) => x.endsWith('.bin')).sort();
  if (f.length === 0) fail(`data folder '${dir}': no .bin files`);
  return f.map((x) => path.join(dir, x));
}

async function minmax(o) {
  if (!o.out) fail('minmax: --out is required');
  const s = await open(o.models[0]);
  const meta = inputMeta(o.models[0]);
  const r = {};
  for (const f of binFiles(o.data)) {
    const out = await s.run(feed(s, meta, f));
    for (const [name, t] of Object.entries(out)) {
      if (t.type !== 'float32') continue;
      let lo = Infinity, hi = -Infinity;
      for (const v of t.data) { if (v < lo) lo = v; if (v > hi) hi = v; }
      const cur = r[name] || [Infinity, -Infinity];
      r[name] = [Math.min(cur[0], lo), Math.max(cur[1], hi)];
    }
  }
  fs.writeFileSync(o.out, JSON.stringify(r));
}

function topk(d, k) {
  return Array.from(d.keys()).sort((a, b) => d[b] - d[a] || a - b).slice(0, k);
}

async function evaluate(o) {
  if (o.models.length !== 2) fail('eval: give --model twice (float, then int8)');
  const sessions = [];
  for (const m of o.models) sessions.push([await open(m), inputMeta(m)]);
  if (!o.labels || !fs.existsSync(o.labels)) fail(`labels file '${o.labels}': no such file`);
  if (!o.json) fail('eval: --json is required');
  const lines = fs.readFileSync(o.labels, 'utf8').split('\n').filter((l) => l.trim());
  const res = o.models.map((m) => ({ model: m, top1: 0, top5: 0 }));
  let cos = 0, agree = 0, images = 0, lost = 0, gained = 0;
  for (const line of lines) {
    const [file, label] = line.trim().split(/\s+/);
    const stem = path.basename(file).replace(/\.[^.]*$/, '');
    const bin = path.join(o.data, stem + '.bin');
    const want = parseInt(label, 10) + o.labelOffset;
    const outs = [];
    for (const [s, meta] of sessions) {
      const out = await s.run(feed(s, meta, bin));
      outs.push(out[s.outputNames[0]].data);
    }
    const right = outs.map((d) => topk(d, 1)[0] === want);
    if (right[0] && !right[1]) lost++;
    if (!right[0] && right[1]) gained++;
    outs.forEach((d, i) => {
      const t = topk(d, 5);
      if (t[0] === want) res[i].top1++;
      if (t.includes(want)) res[i].top5++;
    });
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < outs[0].length; i++) { ab += outs[0][i] * outs[1][i]; aa += outs[0][i] ** 2; bb += outs[1][i] ** 2; }
    cos += ab / Math.sqrt(aa * bb);
    if (topk(outs[0], 1)[0] === topk(outs[1], 1)[0]) agree++;
    images++;
  }
  const r = { images, models: res.map((x) => ({ model: x.model, top1: x.top1 / images, top5: x.top5 / images, images })) };
  r.models[1].cosine_vs_first = cos / images;
  r.models[1].top1_agree_vs_first = agree / images;
  r.models[1].top1_lost_vs_first = lost;  // right with the float model, wrong with int8
  r.models[1].top1_gained_vs_first = gained;
  fs.writeFileSync(o.json, JSON.stringify(r, null, 1));
}

(async () => {
  try {
    const o = parse(process.argv.slice(2));
    if (o.cmd === 'minmax') await minmax(o);
    else if (o.cmd === 'eval') await evaluate(o);
    else fail(`unknown command '${o.cmd}' (minmax or eval)`);
  } catch (e) {
    process.stderr.write(`ort_quantize_static.js: ${e instanceof UserError ? e.message : e.stack}\n`);
    process.exit(1);
  }
})();
