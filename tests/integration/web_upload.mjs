// web_upload.mjs - web/js/upload.js without a browser: a fake server
// (fetch for the JSON calls, XMLHttpRequest for the chunks) that keeps the
// upload's bytes and can fail on cue. Run by web_lecturer_test.py as
//   node web_upload.mjs TOP_SRCDIR
// Checks that the file arrives whole and exact whatever fails: a chunk cut
// off before the server stored it, a chunk stored whose answer was lost
// (the upload goes on from the server's offset, not its own), a server
// error, the browser offline until its "online" event, a 409 naming
// another offset; that every chunk carries Content-Range and the CSRF
// token, chunks grow while fast and halve after a failure, a refusal
// (413) is final, a creation without an answer is asked again, and
// cancel() stops and deletes the upload. Prints one
// JSON line {"checks": n, "failed": [...]}; exit 0 when all held.
import {register} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const top = process.argv[2] || '.';
const webjs = pathToFileURL(path.join(path.resolve(top), 'web', 'js') + '/').href;
// the modules import each other as "/js/x.js" (as the server serves them)
register('data:text/javascript,' + encodeURIComponent(
  'export async function resolve(s, c, next) { return next(s.startsWith("/js/") ? ' +
  JSON.stringify(webjs) + ' + s.slice(4) : s, c); }'));
const api = await import(webjs + 'api.js');
const {Upload} = await import(webjs + 'upload.js');

const failed = [];
let checks = 0;
const ok = (cond, name, diag) => { checks++; if (!cond) failed.push(diag === undefined ? name : [name, diag]); };

// ---- the fake server ----------------------------------------------------------------------
const server = {uploads: new Map(), puts: [], deletes: 0, faults: [], seq: 0, refuseSize: Infinity};
const json = (status, body, headers) => new Response(JSON.stringify(body), {status,
  headers: Object.assign({'content-type': status < 300 ? 'application/json' : 'application/problem+json'}, headers)});
globalThis.fetch = async (url, opts) => {
  const m = opts.method;
  if (url === '/api/v1/session' && m === 'POST') return json(200, {csrf_token: 'TOKEN', person: {uid: 'p'}});
  if (m !== 'GET' && opts.headers['x-csrf-token'] !== 'TOKEN') return json(403, {detail: 'csrf'});
  let r;
  if ((r = url.match(/^\/api\/v1\/courses\/C1\/uploads$/)) && m === 'POST') {
    if (server.failCreate > 0 && server.failCreate--) throw new TypeError('Failed to fetch');
    const b = JSON.parse(opts.body);
    if (b.size > server.refuseSize) return json(413, {detail: 'the file is larger than this kind of unit accepts'});
    const uid = 'U' + ++server.seq;
    server.uploads.set(uid, {size: b.size, bytes: new Uint8Array(b.size), received: 0, kind: b.kind, name: b.name});
    return json(201, {uid, location: '/api/v1/uploads/' + uid, size: b.size, received: 0});
  }
  if ((r = url.match(/^\/api\/v1\/uploads\/(U\d+)(\/finish)?$/))) {
    const u = server.uploads.get(r[1]);
    if (!u) return json(404, {detail: 'no such upload'});
    if (m === 'GET') return json(200, {uid: r[1], received: u.received, size: u.size}, {'upload-offset': String(u.received)});
    if (m === 'DELETE') { server.deletes++; server.uploads.delete(r[1]); return new Response(null, {status: 204}); }
    if (m === 'POST' && r[2]) {
      if (u.received !== u.size) return json(409, {detail: 'not complete'});
      server.finished = u;
      return json(201, {uid: 'M1', kind: u.kind, size: u.size});
    }
  }
  return json(404, {detail: 'no route ' + m + ' ' + url});
};
globalThis.XMLHttpRequest = class {
  constructor() { this.headers = {}; this.upload = {}; this.status = 0; this.responseText = ''; this.rh = {}; }
  open(method, url) { this.method = method; this.url = url; }
  setRequestHeader(k, v) { this.headers[k.toLowerCase()] = v; }
  getResponseHeader(k) { return k in this.rh ? this.rh[k] : null; }
  abort() { this.aborted = true; }
  async send(blob) {
    const body = new Uint8Array(await blob.arrayBuffer());
    const uid = this.url.split('/').pop();
    const u = server.uploads.get(uid);
    const cr = (this.headers['content-range'] || '').match(/^bytes (\d+)-(\d+)\/(\d+)$/);
    const fault = server.faults.shift() || 'none';
    server.puts.push({from: cr ? Number(cr[1]) : -1, n: body.length, csrf: this.headers['x-csrf-token'],
      range: this.headers['content-range'], fault});
    await new Promise((r) => setTimeout(r, 1));
    if (this.aborted) return this.onabort && this.onabort();
    if (fault === 'cut') return this.onerror();	/* the connection dropped: nothing stored */
    if (fault === '500') {
      this.status = 500;
      this.responseText = JSON.stringify({detail: 'oops'});
      return this.onload();
    }
    if (fault === 'offline') {
      globalThis.navigator.onLine = false;
      setTimeout(() => { globalThis.navigator.onLine = true; globalThis.window.dispatchEvent(new Event('online')); }, 200);
      return this.onerror();
    }
    const a = Number(cr[1]), b = Number(cr[2]);
    if (!cr || Number(cr[3]) !== u.size || b - a + 1 !== body.length) {
      this.status = 400;
      return this.onload();
    }
    if (a > u.received || fault === '409') {
      this.status = 409;
      this.rh['upload-offset'] = String(u.received);
      this.responseText = JSON.stringify({detail: 'gap'});
      return this.onload();
    }
    u.bytes.set(body, a);
    u.received = Math.max(u.received, b + 1);
    this.upload.onprogress && this.upload.onprogress({loaded: body.length});
    if (fault === 'lost') return this.onerror();	/* stored, but the answer never came */
    this.status = 200;
    this.rh['upload-offset'] = String(u.received);
    this.responseText = JSON.stringify({received: u.received});
    return this.onload();
  }
};
globalThis.navigator = {onLine: true};
globalThis.window = new EventTarget();

await api.signIn('x', 'y');

// ---- a 3 MiB file through every kind of failure ---------------------------------------------
const size = 3 * 1024 * 1024 + 12345;
const data = new Uint8Array(size);
for (let i = 0; i < size; i++) data[i] = (i * 2654435761) >>> 24;
const file = new Blob([data]);
server.faults = ['none', 'cut', 'none', 'lost', 'none', '500', 'offline', 'none', '409'];
const up = new Upload('C1', file, 'video', 'bai1.mp4');
const states = [];
let last = 0;
up.onstate = (s) => states.push(s);
up.onprogress = (sent) => { last = sent; };
const t0 = Date.now();
const m = await up.start();
const u = server.finished;
ok(m && m.uid === 'M1' && u && u.received === size, 'finished: the material', [m, u && u.received]);
ok(u && Buffer.compare(Buffer.from(u.bytes), Buffer.from(data)) === 0, 'the server has exactly the file\'s bytes');
ok(last === size, 'the progress ends at the size', last);
ok(server.puts.every((p) => p.csrf === 'TOKEN' && /^bytes \d+-\d+\/\d+$/.test(p.range)),
  'every chunk carries the CSRF token and Content-Range');
const puts = server.puts;
ok(puts[0].from === 0 && puts[0].n === 256 * 1024, 'the first chunk: 256 KiB from 0', puts[0]);
ok(puts[1].n === 512 * 1024 && puts[1].fault === 'cut', 'a fast chunk doubles the next', puts[1]);
ok(puts[2].from === puts[1].from && puts[2].n === 256 * 1024,
  'after a cut chunk: the same offset again (the server had nothing of it), a halved chunk', puts[2]);
const lost = puts.findIndex((p) => p.fault === 'lost');
ok(lost > 0 && puts[lost + 1].from === puts[lost].from + puts[lost].n,
  'after a lost answer: on from the server\'s offset, nothing sent twice', [puts[lost], puts[lost + 1]]);
const e500 = puts.findIndex((p) => p.fault === '500');
ok(e500 > 0 && puts[e500 + 1].from === puts[e500].from, 'after a 500: the same chunk again', puts[e500 + 1]);
const c409 = puts.findIndex((p) => p.fault === '409');
ok(c409 < 0 || puts[c409 + 1].from === puts[c409].from, 'after a 409: from the offset the server names',
  puts.slice(c409));
ok(states.includes('retrying') && states.includes('offline') && states.at(-1) === 'finishing',
  'states: retrying, offline (until the online event), finishing', states);
let contiguous = true;
const have = new Set();
for (const p of puts) if (p.from > Math.max(0, ...[...have])) contiguous = false; else have.add(p.from + p.n);
ok(contiguous && puts.every((p) => p.from >= 0), 'no chunk ever left a gap');
ok(Date.now() - t0 < 15000, 'done in %d ms (retries back off from 1 s)'.replace('%d', Date.now() - t0));

// ---- no answer to the creation: asked again -------------------------------------------------------
server.failCreate = 1;
server.faults = [];
const before = server.seq;
const states3 = [];
const up3 = new Upload('C1', new Blob([data.subarray(0, 1000)]), 'document', 'x.pdf');
up3.onstate = (s) => states3.push(s);
const m3 = await up3.start();
ok(m3 && server.finished.size === 1000 && server.seq === before + 1 && states3[0] === 'retrying',
  'a creation that got no answer is asked again', [states3, server.seq - before]);

// ---- a refusal is final; cancel deletes ------------------------------------------------------------
server.refuseSize = 10;
let err = null;
try { await new Upload('C1', file, 'video').start(); } catch (e) { err = e; }
ok(err instanceof api.ApiError && err.status === 413, 'a 413 at the start is thrown, not retried', err && err.status);
server.refuseSize = Infinity;
server.faults = ['cut', 'cut', 'cut', 'cut'];
const up2 = new Upload('C1', file, 'video');
const p2 = up2.start().then(() => null, (e) => e);
await new Promise((r) => setTimeout(r, 300));
await up2.cancel();
const e2 = await p2;
ok(e2 && e2.message === 'cancelled' && server.deletes === 1, 'cancel() stops the upload and deletes it',
  [e2 && e2.message, server.deletes]);

console.log(JSON.stringify({checks, failed}));
process.exit(failed.length ? 1 : 0);
