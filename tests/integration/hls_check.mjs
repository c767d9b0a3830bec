#!/usr/bin/env node
// hls_check.mjs - strict check of an HLS VOD presentation, for the integration
// tests. Parses every playlist with the npm package hls-parser in strict mode.
//
//   node tests/integration/hls_check.mjs URL          master playlist over HTTP
//   node tests/integration/hls_check.mjs --file PATH  master playlist on disk;
//                                                     its URIs are files
//                                                     relative to its folder
//
// It checks: the master playlist parses strictly, has EXT-X-INDEPENDENT-
// SEGMENTS, and every variant has BANDWIDTH and CODECS; then each variant and
// each EXT-X-MEDIA rendition with a URI (SUBTITLES, AUDIO, ...) is resolved
// against the URL of the playlist that names it (the URI's own query, such as
// ?t=token, is kept), fetched, and must parse strictly as a media playlist
// with EXT-X-PLAYLIST-TYPE:VOD, EXT-X-ENDLIST, EXT-X-VERSION 7 or more when it
// has EXT-X-MAP (fMP4), and a target duration of at least every segment's
// rounded duration. Every segment and every EXT-X-MAP init section is then
// fetched with GET: status 200 (206 for an EXT-X-BYTERANGE) and a non-empty
// body. Redirects are followed; relative URIs resolve against the final URL.
//
// Output: one JSON line on stdout.
//   exit 0  {"ok":true,"variants":N,"renditions":[{"type","group","name",
//           "language","default","uri"}...],"segments":N}
//           (segments: media segments fetched, over all media playlists,
//           init sections not counted; a URI listed twice counts once)
//   exit 1  {"ok":false,"error":"..."}      the presentation is wrong
//   exit 2  usage error (message on stderr)
//   exit 77 {"ok":false,"error":"hls-parser not installed"}; 77 is automake's
//           SKIP, so a caller can skip rather than fail
//
// Finding hls-parser: this is an ES module, and ES imports ignore NODE_PATH,
// so the package is loaded with createRequire. First from the node_modules
// folder named by $TINCHI_NODE_MODULES when that is set (for a tree without
// its own node_modules), then by Node's usual search upward from this
// script's folder: ../../node_modules (`npm ci` at the repository root,
// which scripts/deps.sh test does), and, for `make distcheck`, whose copy of
// the tree sits in build/tinchi-VERSION/ inside the source tree, the same
// folder further up. Needs Node.js 18 or later (global fetch).
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const TIMEOUT_MS = 15000;
const PARALLEL = 8;

function out(obj, code) {
	process.stdout.write(JSON.stringify(obj) + '\n');
	process.exit(code);
}
const fail = (msg) => out({ ok: false, error: msg }, 1);

function usage(msg) {
	if (msg)
		process.stderr.write(`hls_check: ${msg}\n`);
	process.stderr.write('usage: node hls_check.mjs URL\n'
		+ '       node hls_check.mjs --file PATH\n');
	process.exit(2);
}

function loadHls() {
	const tries = [];
	const dir = process.env.TINCHI_NODE_MODULES;
	if (dir)	// a path to the package folder itself: no upward search
		tries.push(() => createRequire(import.meta.url)(path.resolve(dir, 'hls-parser')));
	tries.push(() => createRequire(import.meta.url)('hls-parser'));
	for (const t of tries) {
		try {
			return t();
		} catch (e) {
			if (e.code !== 'MODULE_NOT_FOUND')
				throw e;
		}
	}
	return out({ ok: false, error: 'hls-parser not installed' }, 77);
}

class CheckError extends Error {}
const check = (cond, msg) => {
	if (!cond)
		throw new CheckError(msg);
};

// show(url): a URL for messages, relative to the master's folder
let showBase = '';
const show = (u) => (u.startsWith(showBase) ? u.slice(showBase.length) : u);

// get(url, range): {status, body: Buffer, url: final URL}
async function get(u, range) {
	const url = new URL(u);
	if (url.protocol === 'file:') {
		let body;
		try {
			body = await readFile(fileURLToPath(url));	// the query is ignored
		} catch (e) {
			return { status: e.code === 'ENOENT' ? 404 : 500, body: Buffer.alloc(0), url: u, why: e.code };
		}
		if (range) {
			if (range.offset + range.length > body.length)
				return { status: 416, body: Buffer.alloc(0), url: u };
			return { status: 206, body: body.subarray(range.offset, range.offset + range.length), url: u };
		}
		return { status: 200, body, url: u };
	}
	const headers = {};
	if (range)
		headers.Range = `bytes=${range.offset}-${range.offset + range.length - 1}`;
	let res;
	try {
		res = await fetch(url, { headers, redirect: 'follow', signal: AbortSignal.timeout(TIMEOUT_MS) });
	} catch (e) {
		throw new CheckError(`GET ${show(u)}: ${e.cause?.message || e.message}`);
	}
	const body = Buffer.from(await res.arrayBuffer());
	return { status: res.status, body, url: res.url || u };
}

function resolve(uri, base, what) {
	let u;
	try {
		u = new URL(uri, base);
	} catch {
		throw new CheckError(`${what}: bad URI ${JSON.stringify(uri)}`);
	}
	check(u.protocol === new URL(base).protocol,
		`${what}: URI ${JSON.stringify(uri)} leaves the ${new URL(base).protocol} scheme`);
	return u.href;
}

let HLS;
function parseStrict(text, name) {
	try {
		return HLS.parse(text);
	} catch (e) {
		throw new CheckError(`${name}: hls-parser (strict): ${e.message}`);
	}
}

async function fetchPlaylist(u) {
	const r = await get(u);
	check(r.status === 200, `GET ${show(u)}: status ${r.status}${r.why ? ' ' + r.why : ''}`);
	check(r.body.length > 0, `GET ${show(u)}: empty body`);
	return { text: r.body.toString('utf8'), url: r.url };
}

async function fetchResource(what, u, byterange) {
	const r = await get(u, byterange);
	const want = byterange ? 206 : 200;
	check(r.status === want, `${what} ${show(u)}: status ${r.status}, want ${want}${r.why ? ' ' + r.why : ''}`);
	check(r.body.length > 0, `${what} ${show(u)}: empty body`);
	if (byterange)
		check(r.body.length === byterange.length,
			`${what} ${show(u)}: ${r.body.length} bytes, want ${byterange.length} (EXT-X-BYTERANGE)`);
}

async function inParallel(jobs) {
	let next = 0;
	const worker = async () => {
		while (next < jobs.length)
			await jobs[next++]();
	};
	await Promise.all(Array.from({ length: Math.min(PARALLEL, jobs.length) }, worker));
}

async function checkMedia(u, what, seen) {
	const pl = await fetchPlaylist(u);
	const name = `${what} ${show(u)}`;
	const m = parseStrict(pl.text, name);
	check(!m.isMasterPlaylist, `${name}: is a master playlist, want a media playlist`);
	check(m.playlistType === 'VOD', `${name}: EXT-X-PLAYLIST-TYPE is ${m.playlistType ?? 'missing'}, want VOD`);
	check(m.endlist, `${name}: no EXT-X-ENDLIST`);
	check(m.segments.length > 0, `${name}: no segments`);
	const hasMap = m.segments.some((s) => s.map) || /^#EXT-X-MAP:/m.test(pl.text);
	if (hasMap)
		check((m.version ?? 1) >= 7, `${name}: EXT-X-VERSION is ${m.version ?? 'missing'}, want 7 with EXT-X-MAP (fMP4)`);
	const jobs = [];
	let count = 0;
	m.segments.forEach((s, i) => {
		check(typeof s.duration === 'number' && s.duration >= 0, `${name}: segment ${i} has no EXTINF duration`);
		check(Math.round(s.duration) <= m.targetDuration,
			`${name}: segment ${i} lasts ${s.duration} s, more than EXT-X-TARGETDURATION ${m.targetDuration} when rounded`);
		check(s.uri, `${name}: segment ${i} has no URI`);
		const parts = [['segment', s.uri, s.byterange]];
		if (s.map)
			parts.push(['init section', s.map.uri, s.map.byterange]);
		for (const [kind, uri, range] of parts) {
			check(uri, `${name}: ${kind} of segment ${i} has no URI`);
			const su = resolve(uri, pl.url, name);
			const key = su + (range ? `@${range.offset}+${range.length}` : '');
			if (seen.has(key))
				continue;
			seen.add(key);
			if (kind === 'segment')
				count++;
			jobs.push(() => fetchResource(`${name}: ${kind}`, su, range));
		}
	});
	await inParallel(jobs);
	return count;
}

async function main() {
	const args = process.argv.slice(2);
	let root;
	if (args.length === 2 && args[0] === '--file') {
		root = pathToFileURL(path.resolve(args[1])).href;
	} else if (args.length === 1 && !args[0].startsWith('-')) {
		let u;
		try {
			u = new URL(args[0]);
		} catch {
			usage(`not a URL: ${args[0]}`);
		}
		if (u.protocol !== 'http:' && u.protocol !== 'https:')
			usage(`not an http(s) URL: ${args[0]}`);
		if (typeof fetch !== 'function')
			usage(`Node.js ${process.version} has no fetch; need 18 or later`);
		root = u.href;
	} else {
		usage(args.length ? `bad arguments: ${args.join(' ')}` : '');
	}
	showBase = new URL('.', root).href;
	HLS = loadHls();
	HLS.setOptions({ strictMode: true, silent: true });

	const pl = await fetchPlaylist(root);
	// hls-parser's own message for a missing BANDWIDTH is "Param Check :
	// Failed at [1]": say it plainly first
	pl.text.split(/\r?\n/).forEach((line, i) => {
		if (/^#EXT-X-(I-FRAME-)?STREAM-INF:/.test(line))
			check(/[:,]BANDWIDTH=/.test(line), `${show(root)}: line ${i + 1}: EXT-X-STREAM-INF without BANDWIDTH`);
	});
	const master = parseStrict(pl.text, show(root));
	check(master.isMasterPlaylist, `${show(root)}: a media playlist, want a master playlist`);
	check(master.independentSegments, `${show(root)}: no EXT-X-INDEPENDENT-SEGMENTS`);
	check(master.variants.length > 0, `${show(root)}: no variants`);

	const media = new Map();	// resolved URL -> description, each checked once
	const renditions = new Map();
	master.variants.forEach((v, i) => {
		const what = `variant ${i}${v.isIFrameOnly ? ' (I-frames)' : ''}`;
		check(Number.isFinite(v.bandwidth) && v.bandwidth > 0, `${show(root)}: ${what} has no BANDWIDTH`);
		check(v.codecs, `${show(root)}: ${what} has no CODECS`);
		check(v.uri, `${show(root)}: ${what} has no URI`);
		const u = resolve(v.uri, pl.url, show(root));
		if (!media.has(u))
			media.set(u, what);
		for (const r of [...v.audio, ...v.video, ...v.subtitles, ...v.closedCaptions]) {
			const key = `${r.type}\0${r.groupId}\0${r.name}`;
			if (renditions.has(key))
				continue;
			const ru = r.uri ? resolve(r.uri, pl.url, show(root)) : undefined;
			renditions.set(key, {
				type: r.type, group: r.groupId, name: r.name,
				language: r.language ?? null, default: !!r.isDefault,
				uri: r.uri ?? null,
			});
			if (ru && !media.has(ru))
				media.set(ru, `${r.type} rendition "${r.name}" (group "${r.groupId}")`);
		}
	});

	let segments = 0;
	const seen = new Set();
	for (const [u, what] of media)
		segments += await checkMedia(u, what, seen);
	out({ ok: true, variants: master.variants.length, renditions: [...renditions.values()], segments }, 0);
}

main().catch((e) => {
	if (e instanceof CheckError)
		fail(e.message);
	fail(`internal error: ${e.stack || e}`);
});
