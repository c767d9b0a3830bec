// web_progress.mjs - web/js/progress.js without a browser: a fake
// WebSocket and a fake video. Run by web_test.py as
//   node web_progress.mjs TOP_SRCDIR
// Checks that every progress message is kept until acked, sent again with a
// fresh seq on the next connection after a drop, retried after "busy" and
// "stale_seq",
// dropped after a refusal, and that watching a video reports play, 10 s
// heartbeats with their span, seek, pause and ended. Prints one JSON line
// {"checks": n, "failed": [...]}; exit 0 when all held.
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const top = process.argv[2] || '.';
const {Reporter, watch} = await import(pathToFileURL(path.join(top, 'web', 'js', 'progress.js')));
const failed = [];
let checks = 0;
const ok = (cond, name, diag) => { checks++; if (!cond) failed.push(diag === undefined ? name : [name, diag]); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class FakeSocket {
  static OPEN = 1;
  static all = [];
  constructor(url, proto) {
    this.url = url;
    this.proto = proto;
    this.readyState = 0;
    this.sent = [];
    this.ls = {};
    FakeSocket.all.push(this);
  }
  addEventListener(ev, f) { (this.ls[ev] ||= []).push(f); }
  emit(ev, data) { for (const f of this.ls[ev] || []) f(data); }
  send(s) { this.sent.push(JSON.parse(s)); }
  open() { this.readyState = 1; this.emit('open'); }
  drop() { this.readyState = 3; this.emit('close'); }
  close() { this.drop(); }
  reply(m) { this.emit('message', {data: JSON.stringify(m)}); }
}
globalThis.WebSocket = FakeSocket;
globalThis.location = {protocol: 'http:', host: 'example.test'};

// ---- the reporter ---------------------------------------------------------------
const r = new Reporter('U1');
const ws1 = FakeSocket.all[0];
ok(ws1.url === 'ws://example.test/ws' && ws1.proto === 'tinchi.v1', 'connects to /ws with tinchi.v1',
  [ws1.url, ws1.proto]);
r.report('play', {position: 0});
ok(ws1.sent.length === 0 && r.pending.length === 1, 'a message before the socket opens waits');
ws1.open();
ok(ws1.sent.length === 1 && ws1.sent[0].seq === 1 && ws1.sent[0].type === 'progress' &&
  ws1.sent[0].unit === 'U1' && ws1.sent[0].event === 'play' && typeof ws1.sent[0].at === 'number',
'sent on open with seq 1, type, unit, event, at', ws1.sent);
r.report('heartbeat', {position: 10, from: 0, to: 10});
ok(ws1.sent.length === 2 && ws1.sent[1].seq === 2, 'the next message gets seq 2');
ws1.reply({type: 'ack', seq: 1, unit: 'U1', percent: 0, position: 0});
ok(r.pending.length === 1 && r.pending[0].event === 'heartbeat' && r.acked === 1, 'an ack removes its message');
const at = ws1.sent[1].at;
ws1.drop();
await sleep(700);
const ws2 = FakeSocket.all[1];
ok(ws2 && ws2 !== ws1, 'reconnects after a drop');
ws2.open();
ok(ws2.sent.length === 1 && ws2.sent[0].seq === 1 && ws2.sent[0].event === 'heartbeat' &&
  ws2.sent[0].at === at && ws2.sent[0].from === 0 && ws2.sent[0].to === 10,
'the unacked message is sent again on the new connection, seq from 1, the same at and span', ws2.sent);
ws2.reply({type: 'error', seq: 1, error: 'busy', detail: 'x'});
await sleep(1100);
ok(ws2.sent.length === 2 && ws2.sent[1].seq === 2 && ws2.sent[1].event === 'heartbeat',
  'busy: sent again with a new seq', ws2.sent);
ws2.reply({type: 'error', seq: 2, error: 'stale_seq', detail: 'x'});
await sleep(1100);
ok(ws2.sent.length === 3 && ws2.sent[2].seq === 3 && ws2.sent[2].event === 'heartbeat',
  'stale_seq: sent again with a new seq', ws2.sent);
ws2.reply({type: 'ack', seq: 3, unit: 'U1', percent: 80, position: 10});
ok(r.pending.length === 0 && r.acked === 2, 'acked at last: nothing pending');
r.report('seek', {position: 1e9});
ws2.reply({type: 'error', seq: 4, error: 'invalid', detail: 'past the duration'});
ok(r.pending.length === 0, 'a refused message is not sent again');
ws2.reply({type: 'ack', seq: 99});
ok(r.acked === 2, 'an ack for an unknown seq changes nothing');
r.close();
await sleep(700);
ok(FakeSocket.all.length === 2, 'no reconnection after close()');

// ---- watching a video --------------------------------------------------------------------
class FakeVideo extends EventTarget {
  constructor() { super(); this.currentTime = 0; this.duration = 300; this.paused = true; this.seeking = false; this.ended = false; }
  fire(ev) { this.dispatchEvent(new Event(ev)); }
}
const log = [];
const fakeReporter = {report: (event, f) => log.push(Object.assign({event}, f))};
const v = new FakeVideo();
watch(v, fakeReporter);
v.paused = false;
v.fire('playing');
for (let s = 0.25; s <= 12; s += 0.25) {
  v.currentTime = s;
  v.fire('timeupdate');
}
ok(log[0].event === 'play' && log[0].position === 0 && log[0].duration === 300, 'play reported', log[0]);
const hb = log.filter((m) => m.event === 'heartbeat');
ok(hb.length === 1 && hb[0].from === 0 && hb[0].to === 10 && hb[0].position === 10,
  'a heartbeat after 10 s of playing with its span', hb);
v.seeking = true;
v.currentTime = 100;
v.fire('seeking');
const last2 = log.slice(-2);
ok(last2[0].event === 'heartbeat' && last2[0].from === 10 && last2[0].to === 12 &&
  last2[1].event === 'seek' && last2[1].position === 100, 'a seek reports the span played before it, then the seek',
last2);
v.seeking = false;
v.fire('playing');
v.currentTime = 104;
v.fire('timeupdate');
v.paused = true;
v.fire('pause');
const last3 = log.slice(-3);
ok(last3[0].event === 'play' && last3[1].event === 'heartbeat' && last3[1].from === 100 && last3[1].to === 104 &&
  last3[2].event === 'pause', 'pause reports the span and the pause', last3);
v.paused = false;
v.fire('playing');
v.currentTime = 300;
v.ended = true;
v.paused = true;
v.fire('pause');
v.fire('ended');
const tail = log.slice(-2);
ok(tail[0].event === 'heartbeat' && tail[0].from === 104 && tail[0].to === 224 && tail[1].event === 'ended',
  'a span is cut to 120 s; ended is reported (the pause before it is not)', tail);
ok(log.every((m) => m.event !== 'heartbeat' || (m.to > m.from && m.to - m.from <= 120)), 'every span is valid');

console.log(JSON.stringify({checks, failed}));
process.exit(failed.length ? 1 : 0);
