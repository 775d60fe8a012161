/**
 * `--grpc-use-ssl` / `--grpc-use-ssl-mutual` mapped onto grpc-js credentials: a CA and server
 * and client certificates are made with openssl at test time (skipped without openssl).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient } from '../../../../src/client/index.js';
import { InvalidArgumentError } from '../../../../src/errors/index.js';
import { createGrpcFrontend, type GrpcFrontend, type GrpcSslOptions } from '../../../../src/protocol/grpc/index.js';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';
import { FakeGrpcCore } from './fake-core.js';

const tmp = tempDir('infera-tls-');
const file = (name: string) => path.join(tmp.dir, name);
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore', cwd: tmp.dir });
}

/** A key and a certificate for `cn` signed by the test CA. */
function issue(name: string, cn: string, extensions: string): void {
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  );
  execFileSync('sh', ['-c', `printf '%s\\n' "${extensions}" > ${name}.ext`], { cwd: tmp.dir });
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  );
}

const frontends: GrpcFrontend[] = [];
async function serve(ssl: GrpcSslOptions): Promise<string> {
  const frontend = createGrpcFrontend(new FakeGrpcCore(), { address: '127.0.0.1', port: 0, ssl });
  frontends.push(frontend);
  return `127.0.0.1:${(await frontend.listen()).port}`;
}

beforeAll(() => {
  if (!hasOpenssl) return;
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=infera test CA',
  );
  issue('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  issue('client', 'client', 'extendedKeyUsage=clientAuth');
});

afterAll(async () => {
  for (const f of frontends) await f.close({ timeoutMs: 100 });
  tmp.cleanup();
});

describe.skipIf(!hasOpenssl)('TLS', () => {
  const server = { serverCert: file('server.crt'), serverKey: file('server.key') };
  const ca = () => readFileSync(file('ca.crt'));

  test('--grpc-use-ssl: TLS clients that trust the CA get through, plaintext ones do not', async () => {
    const url = await serve({ useSsl: true, ...server });
    const tls = new GrpcClient({ url, credentials: credentials.createSsl(ca()) });
    expect(await tls.isServerLive()).toBe(true);
    const plain = new GrpcClient({ url, timeoutMs: 2000 });
    await expect(plain.isServerLive()).rejects.toMatchObject({ code: status.UNAVAILABLE });
    tls.close();
    plain.close();
  });

  test('--grpc-use-ssl-mutual: a client certificate signed by the root certificate is required', async () => {
    const url = await serve({ useSslMutual: true, ...server, rootCert: file('ca.crt') });
    const withCert = new GrpcClient({
      url,
      credentials: credentials.createSsl(ca(), readFileSync(file('client.key')), readFileSync(file('client.crt'))),
    });
    expect(await withCert.isServerReady()).toBe(true);
    const without = new GrpcClient({ url, credentials: credentials.createSsl(ca()), timeoutMs: 2000 });
    await expect(without.isServerLive()).rejects.toMatchObject({ code: status.UNAVAILABLE });
    withCert.close();
    without.close();
  });

  test('missing or unreadable PEM files are refused at listen', async () => {
    const frontend = createGrpcFrontend(new FakeGrpcCore(), { address: '127.0.0.1', port: 0, ssl: { useSsl: true } });
    await expect(frontend.listen()).rejects.toThrow(
      new InvalidArgumentError('--grpc-server-cert must name a PEM file when SSL is on'),
    );
    const unreadable = createGrpcFrontend(new FakeGrpcCore(), {
      address: '127.0.0.1',
      port: 0,
      ssl: { useSsl: true, serverCert: file('nope.crt'), serverKey: file('server.key') },
    });
    await expect(unreadable.listen()).rejects.toThrow(/unable to read --grpc-server-cert '.*nope\.crt'/);
  });
});
