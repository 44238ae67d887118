// supercluster 9.1.0's side of the query benchmark (bench/queries.sh): the
// same workload as cluster/query_bench_test.go, on the same file.
//
//   tiles: for every zoom 0-16, the distinct tiles holding every 97th point
//          (input order), sorted by x then y; getTile for each.
//   views: for every zoom 0-16 and every 997th point, the bbox of a
//          1024x768-pixel map view (256-pixel tiles) centred on the point,
//          latitudes clamped to +-85; getClusters for each.
//
// Prints one JSON line: the median over --runs of each pass (after one
// warm-up pass), and the features each pass returned. With --dump FILE it
// also writes every answer, one line each, for the conformance test
// (cluster/query_conformance_test.go):
//
//   T z/x/y  tx ty count id;...   a tile's features (points' id: input index)
//   V k z    count id;...          view k's features
//   C id     expansion-zoom children: count id;...  leaves: id;...
//                                  every 13th cluster by id of getClusters(world,
//                                  z), z = 0..16: its expansion zoom, children
//                                  and all its leaves (as sets)
//
// each line's features sorted as strings.
//
//   node bench/queries.mjs --harness ../shared/bench/supercluster --input sample/world-cities.csv.gz [--runs 20] [--dump FILE]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { pathToFileURL } from 'node:url';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!args.harness || !args.input) {
  console.error('usage: queries.mjs --harness DIR --input FILE.csv[.gz] [--runs N]');
  process.exit(2);
}
const runs = Number(args.runs ?? 20);
const entry = path.resolve(args.harness, 'node_modules/supercluster/index.js');
const { default: Supercluster } = await import(pathToFileURL(entry).href);

let text = fs.readFileSync(args.input);
if (args.input.endsWith('.gz')) text = zlib.gunzipSync(text);
text = text.toString('utf8');

// CSV with quoted fields ("" escapes); only lng and lat are used.
function parseRow(line) {
  const row = [];
  let field = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"') {
        if (line[i + 1] === '"') { field += '"'; i++; } else q = false;
      } else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c !== '\r') field += c;
  }
  row.push(field);
  return row;
}
const lines = text.split('\n').filter((l) => l.length > 0);
const header = parseRow(lines[0]).map((h) => h.trim().toLowerCase());
const ix = header.indexOf('lng') >= 0 ? header.indexOf('lng') : header.indexOf('lon');
const iy = header.indexOf('lat');
const points = [];
for (let k = 1; k < lines.length; k++) {
  const r = parseRow(lines[k]);
  points.push({ type: 'Feature', id: k - 1, properties: {}, geometry: { type: 'Point', coordinates: [Number(r[ix]), Number(r[iy])] } });
}

const index = new Supercluster({ radius: 40, extent: 512, minZoom: 0, maxZoom: 16, minPoints: 2 }).load(points);

const lngX = (lng) => lng / 360 + 0.5;
const latY = (lat) => {
  const sin = Math.sin((lat * Math.PI) / 180);
  const y = 0.5 - (0.25 * Math.log((1 + sin) / (1 - sin))) / Math.PI;
  return y < 0 ? 0 : y > 1 ? 1 : y;
};

const tiles = [];
const views = [];
for (let z = 0; z <= 16; z++) {
  const z2 = 2 ** z;
  const seen = new Set();
  const zt = [];
  for (let i = 0; i < points.length; i += 97) {
    const [lng, lat] = points[i].geometry.coordinates;
    const x = Math.min(Math.floor(lngX(lng) * z2), z2 - 1);
    const y = Math.min(Math.floor(latY(lat) * z2), z2 - 1);
    const key = x * 2 ** 20 + y;
    if (!seen.has(key)) {
      seen.add(key);
      zt.push([z, x, y]);
    }
  }
  zt.sort((a, b) => a[1] - b[1] || a[2] - b[2]);
  tiles.push(...zt);
  const w = (((1024 / 256) * 360) / z2), h = (((768 / 256) * 180) / z2);
  for (let i = 0; i < points.length; i += 997) {
    const [lng, lat] = points[i].geometry.coordinates;
    views.push([[lng - w / 2, Math.max(-85, lat - h / 2), lng + w / 2, Math.min(85, lat + h / 2)], z]);
  }
}

function passTiles() {
  let n = 0;
  for (const [z, x, y] of tiles) {
    const t = index.getTile(z, x, y);
    if (t) n += t.features.length;
  }
  return n;
}
function passViews() {
  let n = 0;
  for (const [bbox, z] of views) n += index.getClusters(bbox, z).length;
  return n;
}
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
function time(pass) {
  let features = pass(); // warm-up
  const ms = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    features = pass();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms: median(ms), features };
}
if (args.dump) {
  const out = [];
  for (const [z, x, y] of tiles) {
    const t = index.getTile(z, x, y);
    const fs = (t ? t.features : []).map((f) => `${f.geometry[0][0]} ${f.geometry[0][1]} ${f.tags.point_count ?? 1} ${f.id}`);
    out.push(`T ${z}/${x}/${y} ${fs.sort().join(';')}`);
  }
  views.forEach(([bbox, z], k) => {
    const fs = index.getClusters(bbox, z).map((f) => `${f.properties.point_count ?? 1} ${f.id}`);
    out.push(`V ${k} ${z} ${fs.sort().join(';')}`);
  });
  for (let z = 0; z <= 16; z++) {
    const cs = index.getClusters([-180, -90, 180, 90], z).filter((f) => f.properties.cluster).sort((a, b) => a.id - b.id);
    for (let i = 0; i < cs.length; i += 13) {
      const id = cs[i].id;
      const kids = index.getChildren(id).map((f) => `${f.properties.point_count ?? 1} ${f.id}`).sort();
      const leaves = index.getLeaves(id, Infinity).map((f) => `${f.id}`).sort();
      out.push(`C ${id} ${index.getClusterExpansionZoom(id)} children: ${kids.join(';')} leaves: ${leaves.join(';')}`);
    }
  }
  fs.writeFileSync(args.dump, out.join('\n') + '\n');
}
if (runs === 0) {
  console.log(JSON.stringify({ tiles: tiles.length, views: views.length }));
  process.exit(0);
}
const t = time(passTiles);
const v = time(passViews);
console.log(JSON.stringify({
  tiles: tiles.length, tiles_ms_median: t.ms, tile_features: t.features,
  views: views.length, views_ms_median: v.ms, view_features: v.features,
}));
