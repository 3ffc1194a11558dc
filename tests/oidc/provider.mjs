// A real OpenID provider for the end-to-end JWT tests: panva's oidc-provider on a loopback
// port, issuing RFC 9068 JWT access tokens (`typ: at+jwt`) through the client_credentials
// grant, one signing algorithm per resource indicator.
//
//   node provider.mjs --port 4100 --keys /tmp/keys.json --client-id ID --client-secret SECRET
//                     [--ttl-secs 300]
//
// A resource indicator is `<audience>/<alg>` (RFC 8707): `https://api.test/es256` asks for a
// token with `aud` `https://api.test` signed with ES256, so one audience covers every
// algorithm and a second audience gives tokens meant for another API. Signing keys are read
// from `--keys` when the file exists and generated into it when not: restarting with the
// same file keeps the `kid`s, restarting with a fresh one rotates them.
//
// Prints `ready <issuer>` on stdout once listening; logs each request and each grant to
// stderr (never a token or a secret); exits on SIGTERM or SIGINT.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

// The audiences a token can be asked for: the API the tests protect and one it must refuse.
const AUDIENCES = ['https://api.test', 'https://other.test'];

// The scopes every audience knows; a token carries those requested that are in this list.
const SCOPES = 'read write';

// Path segment of the resource indicator -> JWS algorithm and the key that signs with it.
// RS256 and PS256 get a key each so every algorithm has its own `kid`; a JWK that names its
// `alg` is only ever used with that algorithm (RFC 7517 §4.4).
const ALGORITHMS = {
  rs256: { alg: 'RS256', generate: () => generateKeyPairSync('rsa', { modulusLength: 2048 }) },
  ps256: { alg: 'PS256', generate: () => generateKeyPairSync('rsa', { modulusLength: 2048 }) },
  es256: { alg: 'ES256', generate: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
  eddsa: { alg: 'EdDSA', generate: () => generateKeyPairSync('ed25519') },
};

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    keys: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'ttl-secs': { type: 'string', default: '300' },
  },
  strict: true,
});

for (const required of ['port', 'keys', 'client-id', 'client-secret']) {
  if (!args[required]) {
    fail(`missing --${required}`);
  }
}
const port = positiveInteger('port', args.port);
const ttlSecs = positiveInteger('ttl-secs', args['ttl-secs']);
const issuer = `http://127.0.0.1:${port}`;

const jwks = loadOrGenerateKeys(args.keys);

const provider = new Provider(issuer, {
  jwks,
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      // Form-encoded in the body: the test client then needs no Basic-auth encoding.
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  features: {
    clientCredentials: { enabled: true },
    // No end-user flows: nothing should ever reach the development login pages.
    devInteractions: { enabled: false },
    introspection: { enabled: false },
    revocation: { enabled: false },
    resourceIndicators: {
      enabled: true,
      // No default API: a request without `resource` gets an opaque token with no
      // audience, which is not a JWT at all.
      defaultResource: () => undefined,
      getResourceServerInfo: (_ctx, resource) => resourceServer(resource),
    },
  },
  ttl: {
    ClientCredentials: ttlSecs,
  },
});

provider.on('grant.success', (ctx) => {
  const { resource, scope } = ctx.oidc.params;
  log(`grant client_credentials resource=${resource ?? '(none)'} scope=${JSON.stringify(scope ?? '')}`);
});
provider.on('grant.error', (_ctx, error) => {
  log(`grant refused: ${error.message} (${error.error_description ?? 'no description'})`);
});
provider.on('server_error', (_ctx, error) => {
  log(`server error: ${error.stack ?? error}`);
});

provider.use(async (ctx, next) => {
  const started = Date.now();
  // oidc-provider builds the endpoint URLs it advertises (jwks_uri, token_endpoint) from
  // the request's Host, not from the issuer: pin it, so a client that sends
  // `Host: localhost` still discovers endpoints under the issuer.
  ctx.req.headers.host = new URL(issuer).host;
  await next();
  log(`${ctx.method} ${ctx.path} ${ctx.status} ${Date.now() - started}ms`);
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
server.on('error', (error) => fail(`cannot listen on 127.0.0.1:${port}: ${error.code ?? error.message}`));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    log(`${signal}: shutting down`);
    server.close(() => process.exit(0));
    // Idle keep-alive connections would hold close() open.
    server.closeAllConnections();
  });
}

// The resource server a resource indicator names, or invalid_target.
function resourceServer(resource) {
  const slash = resource.lastIndexOf('/');
  const audience = resource.slice(0, slash);
  const algorithm = ALGORITHMS[resource.slice(slash + 1)];
  if (!AUDIENCES.includes(audience) || !algorithm) {
    throw new errors.InvalidTarget(
      `resource ${resource} is not <audience>/<alg> with audience one of ${AUDIENCES.join(', ')} `
        + `and alg one of ${Object.keys(ALGORITHMS).join(', ')}`,
    );
  }
  return {
    audience,
    scope: SCOPES,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: algorithm.alg } },
  };
}

// The private JWKS in `path`, or a new one (one key per algorithm) written there first.
function loadOrGenerateKeys(path) {
  if (existsSync(path)) {
    const loaded = JSON.parse(readFileSync(path, 'utf8'));
    log(`keys loaded from ${path}: ${kids(loaded)}`);
    return loaded;
  }
  const keys = Object.entries(ALGORITHMS).map(([name, { alg, generate }]) => ({
    ...generate().privateKey.export({ format: 'jwk' }),
    kid: `${name}-${randomBytes(6).toString('hex')}`,
    alg,
    use: 'sig',
  }));
  const generated = { keys };
  // `wx`: never overwrite a key file another process wrote in the meantime.
  writeFileSync(path, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  log(`keys generated into ${path}: ${kids(generated)}`);
  return generated;
}

function kids(set) {
  return set.keys.map((key) => `${key.alg}=${key.kid}`).join(' ');
}

function positiveInteger(name, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    fail(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

function log(message) {
  process.stderr.write(`oidc-provider: ${message}\n`);
}

function fail(message) {
  log(message);
  process.exit(2);
}
