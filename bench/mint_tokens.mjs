// Mints the JWT bench's keys and tokens with nothing but Node's `node:crypto` (Node 20+):
// for one algorithm, a fresh key pair, its public JWK set (the key with `kid`, `alg` and
// `use`) and N compact JWS tokens that differ only in `jti`, one per line.
//
//   node bench/mint_tokens.mjs --out DIR --issuer ISS --audience AUD --ttl-secs 86400 RS256=90000
//
// writes DIR/jwks.json and DIR/tokens. RSA signing costs about a millisecond a token, so the
// tokens are signed by one worker thread per CPU, each a contiguous range.

import { generateKeyPairSync, createPrivateKey, sign } from "node:crypto";
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

// What each JWS algorithm needs from node:crypto. ES256 signatures are the raw r||s pair
// of RFC 7518 §3.4 (`ieee-p1363`), not DER; Ed25519 takes no digest name.
const ALGORITHMS = {
  RS256: { type: "rsa", options: { modulusLength: 2048 }, digest: "sha256" },
  ES256: { type: "ec", options: { namedCurve: "P-256" }, digest: "sha256" },
  EdDSA: { type: "ed25519", options: {}, digest: null },
};

const base64url = (bytes) => Buffer.from(bytes).toString("base64url");

/// The compact JWS of `claims` under `header`, signed with `key`.
function compact(header, claims, key, digest) {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign(digest, Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  return `${input}.${base64url(signature)}`;
}

/// Tokens `from` (inclusive) to `to` (exclusive), newline-terminated.
function mintRange({ pem, alg, kid, issuer, audience, issuedAt, expiresAt, from, to }) {
  const key = createPrivateKey(pem);
  const header = { alg, typ: "JWT", kid };
  const lines = [];
  for (let i = from; i < to; i++) {
    const claims = {
      iss: issuer,
      aud: audience,
      sub: `bench-user-${i % 100}`,
      scope: "read",
      iat: issuedAt,
      nbf: issuedAt,
      exp: expiresAt,
      jti: `bench-${alg}-${i}`,
    };
    lines.push(compact(header, claims, key, ALGORITHMS[alg].digest));
  }
  return lines.join("\n") + "\n";
}

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith("--")) {
      options[arg.slice(2)] = argv[++i];
      continue;
    }
    const [alg, count] = arg.split("=");
    if (!(alg in ALGORITHMS) || !(Number(count) >= 1)) {
      throw new Error(`expected ALG=COUNT with ALG one of ${Object.keys(ALGORITHMS)}, got ${arg}`);
    }
    options.alg = alg;
    options.count = Number(count);
  }
  for (const required of ["out", "issuer", "audience", "ttl-secs"]) {
    if (options[required] === undefined) throw new Error(`--${required} is required`);
  }
  if (options.alg === undefined) throw new Error("expected ALG=COUNT, got none");
  return options;
}

/// Signs `count` tokens on `threads` workers and returns them in index order.
async function mintInParallel(job, count, threads) {
  const per = Math.ceil(count / threads);
  const ranges = [];
  for (let from = 0; from < count; from += per) ranges.push([from, Math.min(count, from + per)]);
  const parts = ranges.map(([from, to]) => new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { ...job, from, to } });
    worker.once("message", resolve);
    worker.once("error", reject);
  }));
  return (await Promise.all(parts)).join("");
}

async function main() {
  const { out, issuer, audience, alg, count, ...rest } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const issuedAt = Math.floor(Date.now() / 1000);
  const threads = Math.max(1, availableParallelism());
  const { type, options } = ALGORITHMS[alg];
  const { publicKey, privateKey } = generateKeyPairSync(type, options);
  const kid = `bench-${alg.toLowerCase()}`;
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg, use: "sig" };
  writeFileSync(join(out, "jwks.json"), JSON.stringify({ keys: [jwk] }));
  const job = {
    pem: privateKey.export({ format: "pem", type: "pkcs8" }),
    alg,
    kid,
    issuer,
    audience,
    issuedAt,
    expiresAt: issuedAt + Number(rest["ttl-secs"]),
  };
  writeFileSync(join(out, "tokens"), await mintInParallel(job, count, threads));
  const secs = (performance.now() - started) / 1000;
  console.log(`minted ${count} ${alg} token(s) in ${secs.toFixed(1)}s on ${threads} thread(s)`);
}

if (isMainThread) {
  main().catch((error) => {
    console.error(`mint_tokens: ${error.message}`);
    process.exit(1);
  });
} else {
  parentPort.postMessage(mintRange(workerData));
}
