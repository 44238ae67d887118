// Reads a PMTiles archive with the real `pmtiles` npm package and prints what
// it finds as JSON, so Go tests can check archives against an independent
// reader. Usage:
//
//   node script.mjs ARCHIVE.pmtiles [z/x/y ...]
//
// Prints {header, metadata, tiles: [{z, x, y, tileId, found, bytes, layers}]}.
// Tiles come decompressed from pmtiles.js; MVT tiles are decoded with
// @mapbox/vector-tile; each layer reports name, extent, feature count,
// geometry type counts, ids and the first feature's properties and ring count.
import { open } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { PMTiles, zxyToTileId, TileType } from "pmtiles";
import { VectorTile } from "@mapbox/vector-tile";
import { PbfReader } from "pbf";

// LocalSource is a pmtiles Source that reads byte ranges from a local file.
class LocalSource {
  constructor(path, handle) {
    this.path = path;
    this.handle = handle;
  }
  getKey() {
    return this.path;
  }
  async getBytes(offset, length) {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.handle.read(buf, 0, length, offset);
    const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + bytesRead);
    return { data };
  }
}

const typeNames = ["Unknown", "Point", "LineString", "Polygon"];

function decodeMVT(bytes) {
  const tile = new VectorTile(new PbfReader(bytes));
  const layers = [];
  for (const name of Object.keys(tile.layers).sort()) {
    const layer = tile.layers[name];
    const types = {};
    const ids = [];
    let firstProps = null;
    let firstRings = 0;
    let minCoord = Infinity;
    let maxCoord = -Infinity;
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      const t = typeNames[f.type];
      types[t] = (types[t] || 0) + 1;
      if (f.id !== undefined) ids.push(f.id);
      const geom = f.loadGeometry();
      for (const ring of geom) {
        for (const p of ring) {
          minCoord = Math.min(minCoord, p.x, p.y);
          maxCoord = Math.max(maxCoord, p.x, p.y);
        }
      }
      if (i === 0) {
        firstProps = f.properties;
        firstRings = geom.length;
      }
    }
    layers.push({
      name,
      version: layer.version,
      extent: layer.extent,
      features: layer.length,
      types,
      ids,
      firstProps,
      firstRings,
      minCoord,
      maxCoord,
    });
  }
  return layers;
}

async function main() {
  const [path, ...coords] = process.argv.slice(2);
  if (!path) {
    console.error("usage: node script.mjs ARCHIVE.pmtiles [z/x/y ...]");
    process.exit(2);
  }
  const handle = await open(path, "r");
  try {
    const p = new PMTiles(new LocalSource(path, handle));
    const header = await p.getHeader();
    const metadata = await p.getMetadata();
    const tiles = [];
    for (const c of coords) {
      const [z, x, y] = c.split("/").map(Number);
      const res = await p.getZxy(z, x, y);
      const out = { z, x, y, tileId: zxyToTileId(z, x, y), found: !!res };
      if (res) {
        let bytes = new Uint8Array(res.data);
        out.bytes = bytes.length;
        // pmtiles.js decompresses tiles itself (per header.tileCompression);
        // report whether it did, and gunzip only what is still gzipped.
        out.stillGzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
        if (out.stillGzipped) {
          bytes = new Uint8Array(gunzipSync(bytes));
        }
        if (header.tileType === TileType.Mvt) {
          out.layers = decodeMVT(bytes);
        } else {
          out.text = Buffer.from(bytes).toString("utf8");
        }
      }
      tiles.push(out);
    }
    console.log(JSON.stringify({ header, metadata, tiles }, null, 1));
  } finally {
    await handle.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
