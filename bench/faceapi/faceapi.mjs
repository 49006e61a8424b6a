// Side by side: face-api's ageGenderNet against our model on the UTKFace
// validation split, both scored by the same code. Started by run.sh, which
// installs the npm packages into a scratch folder (--modules) first.
//
//   node faceapi.mjs --repo DIR --modules DIR/node_modules [--model PATH]
//        [--limit N] [--data DIR] [--out DIR] [--backend wasm|cpu] [--no-check]
//
// What it does:
//  1. lists the image files of DATA/utkface and DATA/utkface-more the way
//     `agegender eval` walks folders, keeps training's validation split (the
//     rule of internal/eval/split.go) and the names whose label parses (the
//     rule of internal/eval/label.go);
//  2. runs our model: `bin/agegender batch --detect off --workers 1 --threads 1`
//     over that list (one thread, so that its speed compares with face-api's);
//  3. runs face-api's ageGenderNet on each whole crop (like --detect off):
//     the decoded 200x200 RGB image goes to predictAgeAndGender as a tensor,
//     which pads it to a square (a no-op here), resizes it bilinearly to 112x112,
//     subtracts its mean RGB and divides by 255, as face-api does for any face;
//  4. scores both from their per-image rows with the same functions, writes
//     OUT/ours.jsonl, OUT/faceapi.jsonl and OUT/table.md and prints the table;
//  5. unless --limit or --no-check, runs `agegender eval --split val
//     --detect off --json` and checks that it scored the same number of images
//     with the same MAE and gender accuracy as step 4 did for our model.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';

// ---- arguments ----
const args = { model: '', limit: 0, data: '', out: '', repo: '', modules: '', backend: 'wasm', check: true };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const want = () => {
      if (i + 1 >= a.length) die(`${a[i]} needs a value`);
      return a[++i];
    };
    switch (a[i]) {
      case '--model': args.model = want(); break;
      case '--limit': args.limit = Number(want()); break;
      case '--data': args.data = want(); break;
      case '--out': args.out = want(); break;
      case '--repo': args.repo = want(); break;
      case '--modules': args.modules = want(); break;
      case '--backend': args.backend = want(); break;
      case '--no-check': args.check = false; break;
      default: die(`unknown argument ${a[i]}`);
    }
  }
  if (!args.repo || !args.modules) die('--repo and --modules are required (run bench/faceapi/run.sh)');
  if (!Number.isInteger(args.limit) || args.limit < 0) die('--limit wants a whole number >= 0');
  if (!['wasm', 'cpu'].includes(args.backend)) die('--backend wants wasm or cpu');
  args.data ||= path.join(args.repo, '..', 'shared', 'data');
  args.out ||= path.join(args.repo, 'out', 'faceapi');
}

function die(msg) {
  console.error(`faceapi.mjs: ${msg}`);
  process.exit(1);
}
const log = (msg) => console.error(msg);

// ---- the validation list, as `agegender eval --split val` picks it ----

// Extensions batch and eval pick up in folders (any case).
const imageExt = new Set(['.jpg', '.jpeg', '.png', '.gif', '.bmp', '.tif', '.tiff', '.webp']);

// walk lists a folder's image files recursively, in lexical order of paths.
function walk(dir) {
  const files = [];
  const rec = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) rec(p);
      else if (imageExt.has(path.extname(e.name).toLowerCase())) files.push(p);
    }
  };
  rec(dir);
  return files.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

// isValidation: first 8 hex digits of sha1(base name), mod 100, below 15.
function isValidation(file) {
  const h = createHash('sha1').update(path.basename(file)).digest();
  return h.readUInt32BE(0) % 100 < 15;
}

// parseUTKName mirrors eval.ParseUTKName: AGE_GENDER[_RACE]_DATETIME..., the
// race is optional (-1 when absent), ages above 120 are typos.
const utkName = /^(\d{1,3})_([01])_(?:([0-4])_)?\d{6,}/;
function parseUTKName(file) {
  const m = utkName.exec(path.basename(file));
  if (!m) return null;
  const age = Number(m[1]);
  if (age > 120) return null;
  return { age, gender: m[2] === '1' ? 'female' : 'male', race: m[3] === undefined ? -1 : Number(m[3]) };
}

const races = ['White', 'Black', 'Asian', 'Indian', 'Others'];
const buckets = ['0-9', '10-19', '20-39', '40-59', '60+'];
const bucketOf = (age) => (age < 10 ? 0 : age < 20 ? 1 : age < 40 ? 2 : age < 60 ? 3 : 4);

// ---- scoring: the same code for both models ----

// score takes rows {age_true, gender_true, race, age, gender, gender_probability}
// of the images a model scored.
function score(rows) {
  const mae = (rs) => (rs.length ? rs.reduce((s, r) => s + Math.abs(r.age - r.age_true), 0) / rs.length : NaN);
  const acc = (rs) => (rs.length ? rs.filter((r) => r.gender === r.gender_true).length / rs.length : NaN);
  const s = { n: rows.length, mae: mae(rows), gender: acc(rows), ece: ece(rows), byAge: [], adultRace: [] };
  for (let b = 0; b < buckets.length; b++) {
    const rs = rows.filter((r) => bucketOf(r.age_true) === b);
    s.byAge.push({ name: buckets[b], n: rs.length, mae: mae(rs), gender: acc(rs) });
  }
  const adults = rows.filter((r) => r.age_true >= 20);
  for (let k = 0; k < races.length; k++) {
    const rs = adults.filter((r) => r.race === k);
    s.adultRace.push({ name: races[k], n: rs.length, mae: mae(rs), gender: acc(rs) });
  }
  const present = s.adultRace.filter((g) => g.n > 0);
  s.raceSpread = present.length ? Math.max(...present.map((g) => g.mae)) - Math.min(...present.map((g) => g.mae)) : NaN;
  s.raceGenderMin = present.length ? Math.min(...present.map((g) => g.gender)) : NaN;
  s.raceGenderMinName = present.length ? present.reduce((a, g) => (g.gender < a.gender ? g : a)).name : '';
  return s;
}

// ece is the expected calibration error of the gender probability: 10
// equal-width bins over [0.5, 1] of the probability of the predicted gender
// (it is never below 0.5), as agegender eval and training compute it,
// sum over bins of (share of images) x |accuracy - mean probability|.
function ece(rows) {
  if (!rows.length) return NaN;
  const bins = Array.from({ length: 10 }, () => ({ n: 0, correct: 0, conf: 0 }));
  for (const r of rows) {
    const p = r.gender_probability;
    const b = bins[Math.min(9, Math.max(0, Math.floor((p - 0.5) * 20)))];
    b.n++;
    b.conf += p;
    if (r.gender === r.gender_true) b.correct++;
  }
  return bins.reduce((e, b) => (b.n ? e + (b.n / rows.length) * Math.abs(b.correct / b.n - b.conf / b.n) : e), 0);
}

// ---- our model, through the CLI ----

function runOurs(files, outFile) {
  const bin = path.join(args.repo, 'bin', 'agegender');
  const cmd = ['batch', '--detect', 'off', '--workers', '1', '--threads', '1', '-0', '-', '--jsonl', '-'];
  if (args.model) cmd.push('--model', args.model);
  log(`ours: ${bin} ${cmd.join(' ')}  (${files.length} paths on stdin)`);
  return new Promise((resolve, reject) => {
    const p = spawn(bin, cmd, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    const t0 = process.hrtime.bigint();
    p.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      // 0: all ok; 2: some inputs failed (their rows carry the error).
      if (code !== 0 && code !== 2) return reject(new Error(`agegender batch exited ${code}: ${err.trim()}`));
      const text = Buffer.concat(out).toString('utf8');
      fs.writeFileSync(outFile, text);
      const rows = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
      // The summary line says "N inputs: ... R images/s (detect off)".
      const m = /([\d.]+) images\/s/.exec(err);
      resolve({ rows, imagesPerSec: m ? Number(m[1]) : NaN, wallMs, stderr: err.trim() });
    });
    p.stdin.end(files.map((f) => `${f}\0`).join(''));
  });
}

// ---- face-api ----

async function runFaceapi(items) {
  const require = createRequire(path.join(args.modules, 'x.js'));
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const jpeg = require('jpeg-js');
  const { tf } = faceapi;
  // In Node the wasm backend loads its .wasm files from its own dist/ folder.
  if (!(await tf.setBackend(args.backend))) throw new Error(`tfjs backend ${args.backend} did not start`);
  await tf.ready();
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.ageGenderNet.loadFromDisk(modelDir);
  const pkg = require('@vladmandic/face-api/package.json');
  const info = {
    faceapi: pkg.version,
    tfjs: tf.version_core,
    backend: tf.getBackend(),
    simd: args.backend === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : undefined,
    threads: args.backend === 'wasm' ? tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') : undefined,
  };
  log(`face-api ${info.faceapi}, tfjs ${info.tfjs}, backend ${info.backend}` +
    (args.backend === 'wasm' ? ` (simd ${info.simd}, threads ${info.threads})` : ''));

  // Warm up: the first calls compile kernels.
  {
    const t = tf.zeros([200, 200, 3], 'int32');
    for (let i = 0; i < 3; i++) await faceapi.nets.ageGenderNet.predictAgeAndGender(t);
    t.dispose();
  }
  const rows = [];
  let modelMs = 0;
  let totalMs = 0;
  let timed = 0;
  const t00 = performance.now();
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const t0 = performance.now();
    let row;
    try {
      const img = jpeg.decode(fs.readFileSync(it.file), { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 64 });
      const t = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
      const t1 = performance.now();
      const r = await faceapi.nets.ageGenderNet.predictAgeAndGender(t);
      const t2 = performance.now();
      t.dispose();
      modelMs += t2 - t1;
      totalMs += t2 - t0;
      timed++;
      row = { input: it.file, width: img.width, height: img.height, age: r.age, gender: r.gender, gender_probability: r.genderProbability };
    } catch (e) {
      row = { input: it.file, error: String(e && e.message ? e.message : e) };
    }
    rows.push(row);
    if ((i + 1) % 500 === 0) log(`face-api: ${i + 1}/${items.length} (${((performance.now() - t00) / 1000).toFixed(0)} s)`);
  }
  info.modelMsPerFace = timed ? modelMs / timed : NaN;
  info.msPerFace = timed ? totalMs / timed : NaN;
  return { rows, info };
}

// ---- the check against `agegender eval` ----

function runEval(folders) {
  const bin = path.join(args.repo, 'bin', 'agegender');
  const cmd = ['eval', ...folders, '--split', 'val', '--detect', 'off', '--json', '--quiet'];
  if (args.model) cmd.push('--model', args.model);
  log(`check: ${bin} ${cmd.join(' ')}`);
  return new Promise((resolve, reject) => {
    const p = spawn(bin, cmd, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`agegender eval exited ${code}: ${err.trim()}`));
      resolve(JSON.parse(Buffer.concat(out).toString('utf8')));
    });
  });
}

// ---- table ----

const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const pc = (x) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '–');

function table(models) {
  const head = ['model', 'n', 'MAE', 'gender', 'gender ECE', 'ms/face',
    ...buckets.map((b) => `${b}`),
    ...races.map((r) => `20+ ${r}`),
    '20+ race spread', '20+ gender, worst race'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const m of models) {
    const s = m.score;
    lines.push(`| ${[m.name, s.n, f2(s.mae), pc(s.gender), f3(s.ece), f2(m.msPerFace),
      ...s.byAge.map((g) => `${f2(g.mae)} / ${pc(g.gender)}`),
      ...s.adultRace.map((g) => `${f2(g.mae)} / ${pc(g.gender)}`),
      f2(s.raceSpread), `${pc(s.raceGenderMin)} (${s.raceGenderMinName})`].join(' | ')} |`);
  }
  return lines.join('\n');
}

// ---- main ----

const folders = ['utkface', 'utkface-more'].map((d) => path.join(args.data, d));
for (const d of folders) if (!fs.existsSync(d)) die(`${d} is missing (--data DIR names the folder holding utkface/ and utkface-more/)`);
const all = folders.flatMap(walk);
const val = all.filter(isValidation);
const items = [];
const unlabelled = [];
for (const file of val) {
  const l = parseUTKName(file);
  if (l) items.push({ file, ...l });
  else unlabelled.push(file);
}
log(`${all.length} images in ${folders.join(' and ')}; ${val.length} in the validation split, ${unlabelled.length} of them without a parsable label (skipped)`);
let chosen = items;
if (args.limit && args.limit < items.length) {
  // An even spread over the list, so that a smoke run sees both folders and all ages.
  chosen = Array.from({ length: args.limit }, (_, i) => items[Math.floor((i * items.length) / args.limit)]);
  log(`--limit ${args.limit}: every ${(items.length / args.limit).toFixed(1)}th image`);
}
fs.mkdirSync(args.out, { recursive: true });
fs.writeFileSync(path.join(args.out, 'files.txt'), chosen.map((it) => `${it.file}\n`).join(''));

const byFile = new Map(chosen.map((it) => [it.file, it]));
// joined writes a model's per-image rows with the labels, and returns the
// rows it scored (those without an error and with a face).
function joined(rows, file, norm) {
  const outRows = [];
  const lines = [];
  let failed = 0;
  for (const r of rows) {
    const it = byFile.get(r.input);
    if (!it) throw new Error(`unexpected input ${r.input}`);
    const p = norm(r);
    const row = { input: it.file, age_true: it.age, gender_true: it.gender, race: it.race, ...p };
    lines.push(JSON.stringify(row));
    if (p.error) failed++;
    else outRows.push(row);
  }
  fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return { rows: outRows, failed };
}

const t0 = performance.now();
const ours = await runOurs(chosen.map((it) => it.file), path.join(args.out, 'ours.batch.jsonl'));
if (ours.rows.length !== chosen.length) die(`batch wrote ${ours.rows.length} rows for ${chosen.length} inputs`);
const oursJ = joined(ours.rows, path.join(args.out, 'ours.jsonl'), (r) => {
  if (r.error || !r.faces || r.faces.length !== 1) return { error: r.error || `${(r.faces || []).length} faces` };
  const f = r.faces[0];
  return { age: f.age, gender: f.gender.toLowerCase(), gender_probability: f.gender_probability };
});
const oursMs = 1000 / ours.imagesPerSec;
log(`ours: ${oursJ.rows.length} scored, ${oursJ.failed} failed, ${(ours.wallMs / 1000).toFixed(1)} s (${ours.stderr.split('\n').pop()})`);

const t1 = performance.now();
const fa = await runFaceapi(chosen);
const faJ = joined(fa.rows, path.join(args.out, 'faceapi.jsonl'), (r) => (r.error ? { error: r.error } : {
  age: r.age, gender: r.gender, gender_probability: r.gender_probability,
}));
log(`face-api: ${faJ.rows.length} scored, ${faJ.failed} failed, ${((performance.now() - t1) / 1000).toFixed(1)} s`);

const oursName = args.model ? `ours (${path.basename(args.model)})` : 'ours (embedded model)';
const models = [
  { name: oursName, score: score(oursJ.rows), msPerFace: oursMs },
  { name: `face-api ${fa.info.faceapi} ageGenderNet`, score: score(faJ.rows), msPerFace: fa.info.msPerFace },
];
const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const md = [
  `UTKFace validation split (sha1(name) mod 100 < 15) of ${folders.map((d) => path.basename(d) + '/').join(' + ')}` +
    (args.limit ? `, --limit ${args.limit} (an even spread)` : '') +
    `: ${chosen.length} images, each whole crop is the face (--detect off).`,
  '',
  table(models),
  '',
  `Cells "a / b%": age MAE in years / gender accuracy. Age buckets by true age; "20+ <race>": adults (true age >= 20) of that`,
  `UTKFace race group; race spread: max - min of those MAEs; gender ECE: 10 equal-width bins over 0.5-1 of the probability of the`,
  `predicted gender. ms/face: one thread, one face at a time, file read and JPEG decode included: ours = 1000 / images/s of`,
  `\`agegender batch --workers 1 --threads 1\`, face-api = jpeg-js decode + predictAgeAndGender on ${fa.info.backend}` +
    (fa.info.backend === 'wasm' ? ` (SIMD ${fa.info.simd ? 'on' : 'off'}, no threads)` : '') +
    `; face-api's model alone: ${f2(fa.info.modelMsPerFace)} ms/face.`,
  `Images per group: ${models[0].score.byAge.map((g) => `${g.name} ${g.n}`).join(', ')}; adults ` +
    `${models[0].score.adultRace.map((g) => `${g.name} ${g.n}`).join(', ')}.`,
  `face-api ${fa.info.faceapi} (tfjs ${fa.info.tfjs}) was trained on data that includes UTKFace (80/20 split of its own), so some of these`,
  `images may be in its training set. Measured ${when} on ${os.cpus().length} cores (${os.loadavg()[0].toFixed(1)} load).`,
  '',
].join('\n');
fs.writeFileSync(path.join(args.out, 'table.md'), md);
console.log(md);
if (oursJ.failed || faJ.failed) log(`warning: failed inputs: ours ${oursJ.failed}, face-api ${faJ.failed} (see the error field in ${args.out}/*.jsonl)`);

if (args.check && !args.limit) {
  const ev = await runEval(folders);
  const s = models[0].score;
  const problems = [];
  if (ev.counts.scored !== s.n) problems.push(`eval scored ${ev.counts.scored} images, this script ${s.n}`);
  if (Math.abs(ev.overall.age_mae - s.mae) > 0.01) problems.push(`eval MAE ${ev.overall.age_mae}, this script ${s.mae}`);
  if (Math.abs(ev.overall.gender_accuracy - s.gender) > 0.0005) problems.push(`eval gender ${ev.overall.gender_accuracy}, this script ${s.gender}`);
  if (problems.length) {
    console.error(`check FAILED: this script and agegender eval disagree on our model: ${problems.join('; ')}`);
    process.exit(1);
  }
  log(`check: agegender eval agrees on our model (n ${ev.counts.scored}, MAE ${ev.overall.age_mae.toFixed(3)}, gender ${pc(ev.overall.gender_accuracy)})`);
}
log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s; per-image rows and the table are in ${args.out}/`);
