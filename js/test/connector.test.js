// The core behaviours of the component, run in Node through jco, with the
// host's imports written in JavaScript and answers recorded from the service's
// shapes (test/recorded.json, in the `host-test --replay` format).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connector, header, TransportFailure } from '../host.js';

const recorded = JSON.parse(readFileSync(new URL('./recorded.json', import.meta.url), 'utf8'));

const TENANT_ID = '8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b';
const TOKEN_URL = `https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/token`;
const machinesUrl = (domain) => `https://api.security.microsoft.com/api/domains/${domain}/machines`;

const clientCredentials = {
  cloud: { tag: 'commercial' },
  auth: {
    tag: 'client-credentials',
    val: { tenantId: TENANT_ID, clientId: 'recorded-client', clientSecret: 'recorded-secret' },
  },
};
const bearer = { cloud: { tag: 'commercial' }, auth: { tag: 'bearer-token', val: 'recorded-bearer' } };

/** Each request as method, URL and Authorization header. */
const sent = (requests) => requests.map((r) => [r.method, r.url, header(r, 'authorization')]);

/** Calls `fn` and returns the `err` value the export threw (jco's ComponentError payload). */
function errorOf(fn) {
  try {
    fn();
  } catch (e) {
    assert.equal(e.constructor.name, 'ComponentError', `expected a ComponentError, got ${e}`);
    return e.payload;
  }
  assert.fail('expected the call to fail');
}

test('machines found: a token, then the lookup with it', async () => {
  const { exports, requests, logs } = await connector({
    settings: clientCredentials,
    answers: [recorded.token, recorded.contoso],
  });
  const machines = exports.domainMachines('contoso.com');

  assert.equal(machines.length, 3);
  const [ws, linux, mac] = machines;
  assert.equal(ws.id, '9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01');
  assert.equal(ws.computerDnsName, 'ws-0142.corp.contoso.com');
  assert.equal(ws.osBuild, 22631n);
  assert.deepEqual(ws.healthStatus, { tag: 'active' });
  assert.deepEqual(ws.riskScore, { tag: 'medium' });
  assert.equal(ws.rbacGroupId, '0');
  assert.equal(ws.rbacGroupName, undefined);
  assert.deepEqual(ws.machineTags, ['finance', 'vip']);
  assert.equal(ws.ipAddresses[1].macAddress, undefined);
  assert.equal(ws.ipAddresses[1].type, 'SoftwareLoopback');
  assert.equal(linux.osBuild, undefined);
  assert.equal(linux.vmMetadata.cloudProvider, 'Azure');
  assert.deepEqual(mac.healthStatus, { tag: 'other', val: 'Maintenance' });
  assert.equal(mac.isPotentialDuplication, true);

  assert.deepEqual(sent(requests), [
    ['post', TOKEN_URL, undefined],
    ['get', machinesUrl('contoso.com'), 'Bearer recorded-access-token'],
  ]);
  const [token, get] = requests;
  assert.equal(header(token, 'content-type'), 'application/x-www-form-urlencoded');
  assert.equal(
    token.body,
    'grant_type=client_credentials&client_id=recorded-client&client_secret=recorded-secret' +
      '&scope=https%3A%2F%2Fapi.securitycenter.microsoft.com%2F.default',
  );
  assert.equal(header(get, 'accept'), 'application/json');
  assert.equal(get.body, undefined);
  assert.deepEqual(
    logs.map((r) => [r.level, r.event]),
    [
      ['debug', 'request'],
      ['info', 'token-acquired'],
      ['debug', 'request'],
    ],
  );
  assert.ok(!logs.some((r) => r.message.includes('recorded-secret')), 'no log carries the secret');
});

test('lookup normalises the domain and reports the cap', async () => {
  const { exports, requests } = await connector({ settings: bearer, answers: [recorded.contoso] });
  const found = exports.lookup('  Contoso.COM. ');
  assert.equal(found.domain, 'contoso.com');
  assert.equal(found.machines.length, 3);
  assert.equal(found.capReached, false);
  assert.deepEqual(sent(requests), [['get', machinesUrl('contoso.com'), 'Bearer recorded-bearer']]);
});

test('unknown domain: no machines', async () => {
  const { exports, requests } = await connector({ settings: bearer, answers: [recorded.none] });
  assert.deepEqual(exports.domainMachines('unknown.example'), []);
  assert.deepEqual(sent(requests), [['get', machinesUrl('unknown.example'), 'Bearer recorded-bearer']]);
});

test('invalid domain: refused with the reason, nothing sent', async () => {
  const { exports, requests } = await connector({ settings: bearer, answers: [recorded.contoso] });
  for (const domain of ['https://contoso.com/x', 'contoso.com/../x', 'a..b', '']) {
    const error = errorOf(() => exports.domainMachines(domain));
    assert.equal(error.tag, 'invalid-domain', `${domain}: ${JSON.stringify(error)}`);
    assert.equal(typeof error.val, 'string');
    assert.ok(error.val.length > 0);
  }
  assert.deepEqual(requests, []);
});

test('rate limited: Retry-After and the service error', async () => {
  const { exports, requests } = await connector({ settings: bearer, answers: [recorded['rate-limited']] });
  assert.deepEqual(errorOf(() => exports.domainMachines('contoso.com')), {
    tag: 'rate-limited',
    val: {
      retryAfterSeconds: 37n,
      details: {
        service: 'api',
        status: 429,
        code: 'TooManyRequests',
        message: 'Rate limit is exceeded. Try again later.',
        correlationId: '4c1b2a3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
      },
    },
  });
  assert.deepEqual(sent(requests), [['get', machinesUrl('contoso.com'), 'Bearer recorded-bearer']]);
});

test("error envelope: the service's code, message and correlation id", async () => {
  const { exports, requests } = await connector({
    settings: bearer,
    answers: [recorded['invalid-domain-name']],
  });
  assert.deepEqual(errorOf(() => exports.domainMachines('localhost')), {
    tag: 'api-error',
    val: {
      service: 'api',
      status: 400,
      code: 'InvalidDomainName',
      message: 'Domain name localhost is invalid',
      correlationId: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b',
    },
  });
  assert.deepEqual(sent(requests), [['get', machinesUrl('localhost'), 'Bearer recorded-bearer']]);
});

test("a transport error thrown by the host comes back as the component's error", async () => {
  const { exports, requests } = await connector({
    settings: bearer,
    answers: [new TransportFailure({ tag: 'refused', val: 'not on the allow-list' })],
  });
  assert.deepEqual(errorOf(() => exports.domainMachines('contoso.com')), {
    tag: 'transport',
    val: { tag: 'refused', val: 'not on the allow-list' },
  });
  assert.equal(requests.length, 1);
});

test('host-managed authentication: no Authorization header from the component', async () => {
  const { exports, requests } = await connector({
    settings: { cloud: { tag: 'geo', val: 'eu' }, auth: { tag: 'host-managed' } },
    answers: [recorded.none],
  });
  assert.deepEqual(exports.domainMachines('contoso.com'), []);
  assert.deepEqual(sent(requests), [
    ['get', 'https://eu.api.security.microsoft.com/api/domains/contoso.com/machines', undefined],
  ]);
});
